/*
 * Message digests for fingerprints, not for security: MD5 (RFC 1321) for
 * JA3/JA3S, SHA-1 (FIPS 180-4) for certificate fingerprints, SHA-256
 * (FIPS 180-4) for JA4. Each has a streaming form (init, update any number
 * of times, final) and a one-shot form.
 */
#ifndef CARACAL_UTIL_DIGEST_H
#define CARACAL_UTIL_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define MD5_LEN 16
#define SHA1_LEN 20
#define SHA256_LEN 32

struct md5_ctx {
    uint32_t h[4];
    uint64_t total;     /* bytes hashed so far */
    uint8_t block[64];  /* partial block */
};

struct sha1_ctx {
    uint32_t h[5];
    uint64_t total;
    uint8_t block[64];
};

struct sha256_ctx {
    uint32_t h[8];
    uint64_t total;
    uint8_t block[64];
};

void md5_init(struct md5_ctx *c);
void md5_update(struct md5_ctx *c, const void *data, size_t len);
void md5_final(struct md5_ctx *c, uint8_t out[MD5_LEN]);
void md5(const void *data, size_t len, uint8_t out[MD5_LEN]);

void sha1_init(struct sha1_ctx *c);
void sha1_update(struct sha1_ctx *c, const void *data, size_t len);
void sha1_final(struct sha1_ctx *c, uint8_t out[SHA1_LEN]);
void sha1(const void *data, size_t len, uint8_t out[SHA1_LEN]);

void sha256_init(struct sha256_ctx *c);
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);
void sha256_final(struct sha256_ctx *c, uint8_t out[SHA256_LEN]);
void sha256(const void *data, size_t len, uint8_t out[SHA256_LEN]);

/*
 * Writes d as lowercase hex into out, a byte per two digits, with sep
 * between bytes when sep is not '\0' ("ab:cd"); out needs 3 * n bytes
 * (2 * n + 1 without a separator). Returns out.
 */
char *digest_hex(const uint8_t *d, size_t n, char sep, char *out);

#endif
