/* pcap/pcapng files and directories, read with libpcap. */
#include "capture/capture.h"

#include <dirent.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "decode/decode.h"
#include "util/log.h"

struct file_list {
    char **paths;
    unsigned n;
};

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void file_list_free(struct file_list *fl)
{
    for (unsigned i = 0; i < fl->n; i++)
        free(fl->paths[i]);
    free(fl->paths);
}

static int file_list_add(struct file_list *fl, const char *path)
{
    char **n = realloc(fl->paths, (fl->n + 1) * sizeof *n);
    if (n == NULL)
        return -1;
    fl->paths = n;
    fl->paths[fl->n] = strdup(path);
    if (fl->paths[fl->n] == NULL)
        return -1;
    fl->n++;
    return 0;
}

/* The regular files of a directory (not hidden ones), sorted by name. */
static int list_inputs(const char *path, struct file_list *fl)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        log_error("%s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return file_list_add(fl, path);
    DIR *d = opendir(path);
    if (d == NULL) {
        log_error("%s: %s", path, strerror(errno));
        return -1;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char full[4096];
        snprintf(full, sizeof full, "%s/%s", path, de->d_name);
        if (stat(full, &st) == 0 && S_ISREG(st.st_mode) && file_list_add(fl, full) < 0) {
            closedir(d);
            return -1;
        }
    }
    closedir(d);
    if (fl->n > 1)
        qsort(fl->paths, fl->n, sizeof *fl->paths, name_cmp);
    return 0;
}

/* libpcap reports some link types by their DLT_ value, which differs from
 * the LINKTYPE_ value stored in files on some platforms. */
static int link_normalize(int dlt)
{
    switch (dlt) {
    case DLT_RAW:
        return LINK_RAW;
    default:
        return dlt;
    }
}

static enum capture_status read_file(const char *file, capture_cb cb, void *ctx,
                                     struct capture_progress *prog, uint64_t *cnt,
                                     volatile sig_atomic_t *stop)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline_with_tstamp_precision(file, PCAP_TSTAMP_PRECISION_MICRO, errbuf);
    if (pc == NULL) {
        log_error("%s: cannot read as pcap or pcapng: %s", file, errbuf);
        return CAPTURE_INPUT_ERROR;
    }
    int link = link_normalize(pcap_datalink(pc));
    if (!decode_link_supported(link)) {
        const char *name = pcap_datalink_val_to_name(link);
        log_error("%s: link type %d (%s) is not supported; file skipped", file, link,
                  name ? name : "unknown");
        pcap_close(pc);
        return CAPTURE_INPUT_ERROR;
    }
    enum capture_status st = CAPTURE_OK;
    uint64_t in_file = 0;
    for (;;) {
        if (stop && *stop)
            break;
        struct pcap_pkthdr *h;
        const u_char *data;
        int rc = pcap_next_ex(pc, &h, &data);
        if (rc == PCAP_ERROR_BREAK)
            break;
        if (rc == PCAP_ERROR) {
            log_error("%s: truncated or corrupt after %llu packets: %s", file,
                      (unsigned long long)in_file, pcap_geterr(pc));
            st = CAPTURE_INPUT_ERROR;
            break;
        }
        if (rc != 1)
            continue;
        /* pcapng files may mix link types per interface. */
        int plink = link_normalize(pcap_datalink(pc));
        struct capture_pkt cp = {
            .ts = { h->ts.tv_sec, h->ts.tv_usec },
            .caplen = h->caplen,
            .wirelen = h->len < h->caplen ? h->caplen : h->len,
            .linktype = plink,
            .cnt = ++*cnt,
            .first_in_file = in_file == 0,
            .data = data,
        };
        in_file++;
        if (prog) {
            __atomic_add_fetch(&prog->pkts, 1, __ATOMIC_RELAXED);
            __atomic_add_fetch(&prog->bytes, h->caplen, __ATOMIC_RELAXED);
        }
        if (cb && cb(ctx, &cp) != 0)
            break;
    }
    pcap_close(pc);
    return st;
}

enum capture_status capture_pcap_run(const char *path, capture_cb cb, void *ctx,
                                     struct capture_progress *prog,
                                     volatile sig_atomic_t *stop)
{
    struct file_list fl = { 0 };
    if (list_inputs(path, &fl) < 0) {
        file_list_free(&fl);
        return CAPTURE_FATAL;
    }
    if (fl.n == 0) {
        log_error("%s: no capture files in this directory", path);
        file_list_free(&fl);
        return CAPTURE_FATAL;
    }
    if (prog)
        __atomic_store_n(&prog->files_total, fl.n, __ATOMIC_RELAXED);
    enum capture_status st = CAPTURE_OK;
    uint64_t cnt = 0;
    for (unsigned i = 0; i < fl.n && !(stop && *stop); i++) {
        if (read_file(fl.paths[i], cb, ctx, prog, &cnt, stop) != CAPTURE_OK)
            st = CAPTURE_INPUT_ERROR;
        if (prog)
            __atomic_add_fetch(&prog->files_done, 1, __ATOMIC_RELAXED);
    }
    file_list_free(&fl);
    return st;
}

enum capture_status capture_pcap_count(const char *path, struct capture_progress *prog)
{
    return capture_pcap_run(path, NULL, NULL, prog, NULL);
}

/* ---- Live capture ---------------------------------------------------------------- */

bool capture_filter_present(const struct capture_filter *f)
{
    if (f == NULL || f->expr == NULL)
        return false;
    for (const char *p = f->expr; *p; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n')
            return true;
    return false;
}

/* ms: how long a packet may wait in a partly filled block, and how often
 * a quiet capture looks at *stop */
#define LIVE_POLL_MS 100

struct capture_live {
    pcap_t *pc;
    char *iface;
    int link;
    int fd; /* polled between reads */
};

void capture_live_close(struct capture_live *cl, struct capture_live_stats *ks)
{
    if (ks)
        memset(ks, 0, sizeof *ks);
    if (cl == NULL)
        return;
    struct pcap_stat ps;
    if (ks && pcap_stats(cl->pc, &ps) == 0) {
        ks->packets = ps.ps_recv;
        ks->drops = ps.ps_drop;
        ks->ifdrops = ps.ps_ifdrop;
    }
    pcap_close(cl->pc);
    free(cl->iface);
    free(cl);
}

/* Compiled for the handle's own link type; libpcap filters in user space
 * whatever was captured before the kernel took the filter. */
static int live_set_filter(struct capture_live *cl, const struct capture_filter *f)
{
    struct bpf_program prog;
    if (pcap_compile(cl->pc, &prog, f->expr, 1, PCAP_NETMASK_UNKNOWN) < 0 ||
        pcap_setfilter(cl->pc, &prog) < 0) {
        log_error("%s: bad BPF filter '%s' on %s: %s", f->origin, f->expr, cl->iface,
                  pcap_geterr(cl->pc));
        return -1;
    }
    pcap_freecode(&prog);
    log_info("%s: BPF filter '%s' (%s)", cl->iface, f->expr, f->origin);
    return 0;
}

struct capture_live *capture_live_open(const char *iface, const struct capture_filter *filter)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    struct capture_live *cl = calloc(1, sizeof *cl);
    if (cl == NULL || (cl->iface = strdup(iface)) == NULL) {
        free(cl);
        return NULL;
    }
    cl->pc = pcap_create(iface, errbuf);
    if (cl->pc == NULL) {
        log_error("%s: %s", iface, errbuf);
        free(cl->iface);
        free(cl);
        return NULL;
    }
    pcap_set_snaplen(cl->pc, CAPTURE_SNAPLEN);
    pcap_set_promisc(cl->pc, 1);
    pcap_set_timeout(cl->pc, LIVE_POLL_MS); /* the kernel hands over a partly filled block */
    pcap_set_buffer_size(cl->pc, 32 << 20);
    if (pcap_activate(cl->pc) < 0) {
        log_error("%s: cannot capture: %s", iface, pcap_geterr(cl->pc));
        goto fail;
    }
    cl->link = link_normalize(pcap_datalink(cl->pc));
    if (!decode_link_supported(cl->link)) {
        log_error("%s: link type %d is not supported", iface, cl->link);
        goto fail;
    }
    if (capture_filter_present(filter) && live_set_filter(cl, filter) < 0)
        goto fail;
    /* With TPACKET_V3 the kernel hands over no empty block, so a blocking
     * read on a quiet interface would wait for the next packet before it
     * noticed *stop; capture_live_run polls with a timeout instead. */
    if (pcap_setnonblock(cl->pc, 1, errbuf) < 0) {
        log_error("%s: cannot poll the capture: %s", iface, errbuf);
        goto fail;
    }
    cl->fd = pcap_get_selectable_fd(cl->pc);
    if (cl->fd < 0) {
        log_error("%s: cannot poll the capture: no selectable descriptor", iface);
        goto fail;
    }
    return cl;
fail:
    capture_live_close(cl, NULL);
    return NULL;
}

enum capture_status capture_live_run(struct capture_live *cl, capture_cb cb,
                                     capture_idle_cb idle, void *ctx,
                                     struct capture_progress *prog,
                                     volatile sig_atomic_t *stop)
{
    log_info("%s: capturing", cl->iface);
    uint64_t cnt = 0;
    enum capture_status st = CAPTURE_OK;
    while (!(stop && *stop)) {
        struct pcap_pkthdr *h;
        const u_char *data;
        int r = pcap_next_ex(cl->pc, &h, &data);
        if (r == 0) { /* nothing yet */
            if (idle)
                idle(ctx);
            struct pollfd pfd = { .fd = cl->fd, .events = POLLIN };
            poll(&pfd, 1, LIVE_POLL_MS);
            continue;
        }
        if (r < 0) {
            if (r != PCAP_ERROR_BREAK) {
                log_error("%s: capture failed: %s", cl->iface, pcap_geterr(cl->pc));
                st = CAPTURE_INPUT_ERROR;
            }
            break;
        }
        /* counted first: the initializers below are not evaluated in order */
        cnt++;
        struct capture_pkt cp = {
            .ts = { h->ts.tv_sec, h->ts.tv_usec },
            .caplen = h->caplen,
            .wirelen = h->len < h->caplen ? h->caplen : h->len,
            .linktype = cl->link,
            .cnt = cnt,
            .first_in_file = cnt == 1,
            .data = data,
        };
        if (prog) {
            __atomic_add_fetch(&prog->pkts, 1, __ATOMIC_RELAXED);
            __atomic_add_fetch(&prog->bytes, h->caplen, __ATOMIC_RELAXED);
        }
        if (cb && cb(ctx, &cp) != 0)
            break;
    }
    return st;
}
