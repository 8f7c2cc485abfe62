/*
 * A STAND-IN for libxenctrl, for tests only: linked into a reproducer in place of the real library
 * (gcc reproducer.c libxenctrl-standin.c), it plays a Xen host whose answers are the model's. It
 * never touches a hypervisor.
 *
 * It implements the libxenctrl functions reproducers call, with the real signatures (it includes the
 * real xenctrl.h, so the compiler checks them), logs every call that changes the host to
 * $XENCTRL_STANDIN_LOG, one line each, with the domains by the trace's names, and answers from the
 * script $XENCTRL_STANDIN_SCRIPT:
 *
 *   version MAJOR MINOR EXTRA         xc_version
 *   console TEXT                      the console ring (Xen's banner, "debug=y" or "debug=n")
 *   console-later TEXT                a line the ring gains once a domain was created
 *   dom0 pv|pvh MAX_GPFN              dom0's kind and highest gfn
 *   physinfo CAP...                   hvm, hap, shadow
 *   domains NAME...                   the domains the program creates, in order (a new round of
 *                                     creations is a new attempt: every step is expected again)
 *   step CALL = ANSWER [| NAME:LIFE:PAGES ...]
 *                                     a call of the trace (as logged), its answer (0 or -EXXX, as
 *                                     the model writes it; FAULT: the hypervisor goes down, and the
 *                                     process with it, exit 99) and the domains after it (alive,
 *                                     dying, gone); steps may come in any order (a race), each once
 *   zombie NAME PAGES                 destroying NAME outside the steps (the cleanup) leaves it dying
 *   stuck NAME -EXXX                  destroying NAME outside the steps fails so, and it stays dying
 *   sigint-at N                       raise SIGINT while answering the N-th step
 *
 * A destroyed domain goes from the list after three looks at it (as an RCU callback would free it).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xenctrl.h>

#define MAX_DOMS 64
#define MAX_STEPS 256
#define MAX_NAMES 8

struct fake_domain
{
    uint32_t id;
    char name[16];
    int exists, dying, looks_left;
    long long pages;
};

struct step
{
    char call[160];
    int answer, consumed, fault;
    char after[256];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int loaded;
static FILE *log_file;
static int major = 4, minor = 19;
static char extra[16] = ".0";
static char console[512] = "(XEN) Xen version 4.19.0 (stand-in) debug=n";
static char console_later[512];
static int console_read, console_later_read;
static int dom0_pvh;
static unsigned long dom0_max_gpfn;
static uint32_t caps = XEN_SYSCTL_PHYSCAP_hvm | XEN_SYSCTL_PHYSCAP_hap | XEN_SYSCTL_PHYSCAP_shadow;
static char names[MAX_NAMES][16];
static int nnames, creations;
static struct fake_domain doms[MAX_DOMS];
static int ndoms;
static uint32_t next_id = 101;
static struct step steps[MAX_STEPS];
static int nsteps, answered, sigint_at;
static char zombie[MAX_NAMES][16];
static long long zombie_pages[MAX_NAMES];
static int nzombies;
static char stuck[MAX_NAMES][16];
static int stuck_errno[MAX_NAMES];
static int nstuck;
static int dummy_handle;

/* Copies a string, cut to fit. */
static void copy(char *dst, size_t size, const char *src)
{
    size_t n = strnlen(src, size - 1);

    memcpy(dst, src, n);
    dst[n] = 0;
}

static int errno_of(const char *s)
{
    static const struct { const char *name; int value; } table[] = {
        { "EPERM", EPERM }, { "ENOENT", ENOENT }, { "ESRCH", ESRCH }, { "ENXIO", ENXIO },   { "ENOMEM", ENOMEM },
        { "EBUSY", EBUSY }, { "EEXIST", EEXIST }, { "EINVAL", EINVAL }, { "EILSEQ", EILSEQ }, { "EACCES", EACCES },
    };
    size_t i;

    /* "-EPERM" or "-84": the errno, positive */
    for ( i = 0; i < sizeof(table) / sizeof(table[0]); i++ )
        if ( !strcmp(s + 1, table[i].name) )
            return table[i].value;
    return atoi(s + 1);
}

static void load(void)
{
    const char *path = getenv("XENCTRL_STANDIN_SCRIPT"), *logp = getenv("XENCTRL_STANDIN_LOG");
    char line[1024];
    FILE *f;

    if ( loaded )
        return;
    loaded = 1;
    log_file = logp ? fopen(logp, "a") : stderr;
    if ( !path || !(f = fopen(path, "r")) )
        return;
    while ( fgets(line, sizeof(line), f) )
    {
        char *nl = strchr(line, '\n'), *p;

        if ( nl )
            *nl = 0;
        if ( !strncmp(line, "version ", 8) )
            sscanf(line + 8, "%d %d %15s", &major, &minor, extra);
        else if ( !strncmp(line, "console ", 8) )
            copy(console, sizeof(console), line + 8);
        else if ( !strncmp(line, "console-later ", 14) )
            copy(console_later, sizeof(console_later), line + 14);
        else if ( !strncmp(line, "dom0 ", 5) )
        {
            dom0_pvh = !strncmp(line + 5, "pvh", 3);
            dom0_max_gpfn = strtoul(strchr(line + 5, ' ') + 1, NULL, 0);
        }
        else if ( !strncmp(line, "physinfo", 8) )
            caps = (strstr(line, " hvm") ? XEN_SYSCTL_PHYSCAP_hvm : 0) | (strstr(line, " hap") ? XEN_SYSCTL_PHYSCAP_hap : 0) |
                   (strstr(line, " shadow") ? XEN_SYSCTL_PHYSCAP_shadow : 0);
        else if ( !strncmp(line, "domains ", 8) )
            for ( p = strtok(line + 8, " "); p && nnames < MAX_NAMES; p = strtok(NULL, " ") )
                copy(names[nnames++], sizeof(names[0]), p);
        else if ( !strncmp(line, "step ", 5) && nsteps < MAX_STEPS && (p = strstr(line, " = ")) )
        {
            struct step *s = &steps[nsteps++];
            char *bar = strstr(p, " | ");

            *p = 0;
            copy(s->call, sizeof(s->call), line + 5);
            if ( bar )
            {
                *bar = 0;
                copy(s->after, sizeof(s->after), bar + 3);
            }
            s->fault = !strcmp(p + 3, "FAULT");
            s->answer = p[3] == '-' ? -errno_of(p + 3) : atoi(p + 3);
        }
        else if ( !strncmp(line, "zombie ", 7) && nzombies < MAX_NAMES )
        {
            sscanf(line + 7, "%15s %lld", zombie[nzombies], &zombie_pages[nzombies]);
            nzombies++;
        }
        else if ( !strncmp(line, "stuck ", 6) && nstuck < MAX_NAMES )
        {
            char e[32];

            sscanf(line + 6, "%15s %31s", stuck[nstuck], e);
            stuck_errno[nstuck++] = errno_of(e);
        }
        else if ( !strncmp(line, "sigint-at ", 10) )
            sigint_at = atoi(line + 10);
    }
    fclose(f);
}

static void logf_(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfprintf(log_file, fmt, ap);
    va_end(ap);
    fputc('\n', log_file);
    fflush(log_file);
}

static struct fake_domain *by_id(uint32_t id)
{
    int i;

    for ( i = 0; i < ndoms; i++ )
        if ( doms[i].id == id )
            return &doms[i];
    return NULL;
}

static struct fake_domain *by_name(const char *name)
{
    int i;

    for ( i = ndoms - 1; i >= 0; i-- )
        if ( !strcmp(doms[i].name, name) )
            return &doms[i];
    return NULL;
}

static const char *name_of(uint32_t id)
{
    static char buf[8][16];
    static int next;
    struct fake_domain *d = by_id(id);

    if ( id == 0 )
        return "dom0";
    if ( d )
        return d->name;
    next = (next + 1) % 8;
    snprintf(buf[next], sizeof(buf[0]), "domid%u", id);
    return buf[next];
}

/* A call that only changes something the programs do not look at again: logged, under the lock. */
static void log_call(const char *what, uint32_t domid, const uint32_t *other, unsigned long long n)
{
    pthread_mutex_lock(&lock);
    if ( other )
        logf_("%s %s %s", what, name_of(domid), name_of(*other));
    else
        logf_("%s %s %llu", what, name_of(domid), n);
    pthread_mutex_unlock(&lock);
}

/* A step of the trace: its scripted answer and the domains after it; -1 when the call is not one. */
static int scripted(const char *call, int *answer)
{
    int i;

    for ( i = 0; i < nsteps; i++ )
    {
        char after[256], *tok, *save;

        if ( steps[i].consumed || strcmp(steps[i].call, call) )
            continue;
        steps[i].consumed = 1;
        if ( steps[i].fault )
        {
            logf_("(the hypervisor goes down)");
            _exit(99);
        }
        *answer = steps[i].answer;
        copy(after, sizeof(after), steps[i].after);
        for ( tok = strtok_r(after, " ", &save); tok; tok = strtok_r(NULL, " ", &save) )
        {
            char name[16], life[16];
            long long pages = 0;
            struct fake_domain *d;

            if ( sscanf(tok, "%15[^:]:%15[^:]:%lld", name, life, &pages) < 2 || !(d = by_name(name)) )
                continue;
            d->exists = strcmp(life, "gone") != 0;
            d->dying = !strcmp(life, "dying");
            d->pages = pages;
            d->looks_left = 0;
        }
        if ( ++answered == sigint_at )
            raise(SIGINT);
        return 0;
    }
    return -1;
}

static int fail(int e)
{
    errno = e;
    return -1;
}

xc_interface *xc_interface_open(xentoollog_logger *logger, xentoollog_logger *dombuild_logger, unsigned open_flags)
{
    (void)logger;
    (void)dombuild_logger;
    (void)open_flags;
    pthread_mutex_lock(&lock);
    load();
    pthread_mutex_unlock(&lock);
    return (xc_interface *)&dummy_handle;
}

int xc_interface_close(xc_interface *xch)
{
    (void)xch;
    return 0;
}

int xc_version(xc_interface *xch, int cmd, void *arg)
{
    (void)xch;
    if ( cmd == XENVER_version )
        return (major << 16) | minor;
    if ( cmd == XENVER_extraversion )
        copy(arg, sizeof(xen_extraversion_t), extra);
    return 0;
}

int xc_physinfo(xc_interface *xch, xc_physinfo_t *info)
{
    (void)xch;
    memset(info, 0, sizeof(*info));
    info->capabilities = caps;
    return 0;
}

int xc_readconsolering(xc_interface *xch, char *buffer, unsigned int *pnr_chars, int clear, int incremental, uint32_t *pindex)
{
    (void)xch;
    (void)clear;
    (void)incremental;
    (void)pindex;
    pthread_mutex_lock(&lock);
    if ( !console_read++ )
        *pnr_chars = (unsigned int)snprintf(buffer, *pnr_chars, "%s\n", console);
    else if ( console_later[0] && creations && !console_later_read++ )
        *pnr_chars = (unsigned int)snprintf(buffer, *pnr_chars, "%s\n", console_later);
    else
        *pnr_chars = 0;
    pthread_mutex_unlock(&lock);
    return 0;
}

int xc_domain_create(xc_interface *xch, uint32_t *pdomid, struct xen_domctl_createdomain *config)
{
    struct fake_domain *d;
    int i;

    (void)xch;
    pthread_mutex_lock(&lock);
    /* a new round of creations: a new attempt, whose steps are all expected again */
    if ( nnames && creations % nnames == 0 )
        for ( i = 0; i < nsteps; i++ )
            steps[i].consumed = 0;
    d = &doms[ndoms++ % MAX_DOMS];
    memset(d, 0, sizeof(*d));
    d->id = *pdomid = next_id++;
    copy(d->name, sizeof(d->name), nnames ? names[creations % nnames] : "dom?");
    d->exists = 1;
    creations++;
    logf_("create %s %s%s", d->name, config->arch.emulation_flags == XEN_X86_EMU_LAPIC ? "pvh" : "hvm",
          (config->flags & XEN_DOMCTL_CDF_hvm) ? "" : " (not hvm!)");
    pthread_mutex_unlock(&lock);
    return 0;
}

int xc_domain_setmaxmem(xc_interface *xch, uint32_t domid, uint64_t max_memkb)
{
    (void)xch;
    log_call("setmaxmem", domid, NULL, (unsigned long long)max_memkb);
    return 0;
}

int xc_domain_set_target(xc_interface *xch, uint32_t domid, uint32_t target)
{
    (void)xch;
    log_call("set_target", domid, &target, 0);
    return 0;
}

int xc_domain_populate_physmap_exact(xc_interface *xch, uint32_t domid, unsigned long nr_extents, unsigned int extent_order,
                                     unsigned int mem_flags, xen_pfn_t *extent_start)
{
    struct fake_domain *d;

    (void)xch;
    (void)mem_flags;
    pthread_mutex_lock(&lock);
    logf_("populate_exact %s %#lx %u x%lu", name_of(domid), (unsigned long)extent_start[0], extent_order, nr_extents);
    if ( (d = by_id(domid)) )
        d->pages += (long long)nr_extents << extent_order;
    pthread_mutex_unlock(&lock);
    return 0;
}

/* The memory ops count extents done: the model's 0 is 1 extent, an error none. */
static int extents(const char *call, uint32_t domid, int delta)
{
    struct fake_domain *d;
    int answer = 0;

    pthread_mutex_lock(&lock);
    logf_("%s", call);
    if ( scripted(call, &answer) < 0 )
    {
        /* the cleanup's: done, and the page goes */
        if ( (d = by_id(domid)) && delta < 0 )
            d->pages += delta;
    }
    pthread_mutex_unlock(&lock);
    return answer == 0 ? 1 : 0;
}

int xc_domain_populate_physmap(xc_interface *xch, uint32_t domid, unsigned long nr_extents, unsigned int extent_order, unsigned int mem_flags,
                               xen_pfn_t *extent_start)
{
    char call[160];

    (void)xch;
    (void)mem_flags;
    snprintf(call, sizeof(call), "populate %s %#lx %u x%lu", name_of(domid), (unsigned long)extent_start[0], extent_order, nr_extents);
    return extents(call, domid, 1);
}

int xc_domain_decrease_reservation(xc_interface *xch, uint32_t domid, unsigned long nr_extents, unsigned int extent_order,
                                   xen_pfn_t *extent_start)
{
    char call[160];

    (void)xch;
    snprintf(call, sizeof(call), "decrease %s %#lx %u x%lu", name_of(domid), (unsigned long)extent_start[0], extent_order, nr_extents);
    return extents(call, domid, -1);
}

/* A call answered 0 or -errno: the scripted answer for a step, else `otherwise`. */
static int answered_call(const char *call, int otherwise)
{
    int answer = otherwise;

    logf_("%s", call);
    scripted(call, &answer);
    return answer;
}

int xc_domain_add_to_physmap_batch(xc_interface *xch, uint32_t domid, uint32_t foreign_domid, unsigned int space, unsigned int size,
                                   xen_ulong_t *idxs, xen_pfn_t *gfpns, int *errs)
{
    char call[160];

    (void)xch;
    pthread_mutex_lock(&lock);
    snprintf(call, sizeof(call), "add_foreign %s %s %#lx %#lx%s x%u", name_of(domid), name_of(foreign_domid), (unsigned long)idxs[0],
             (unsigned long)gfpns[0], space == XENMAPSPACE_gmfn_foreign ? "" : " (not gmfn_foreign!)", size);
    errs[0] = answered_call(call, 0);
    pthread_mutex_unlock(&lock);
    return 0;
}

int xc_domain_remove_from_physmap(xc_interface *xch, uint32_t domid, xen_pfn_t gpfn)
{
    char call[160];
    int rc;

    (void)xch;
    pthread_mutex_lock(&lock);
    snprintf(call, sizeof(call), "remove %s %#lx", name_of(domid), (unsigned long)gpfn);
    rc = answered_call(call, 0);
    pthread_mutex_unlock(&lock);
    return rc < 0 ? fail(-rc) : rc;
}

int xc_domain_destroy(xc_interface *xch, uint32_t domid)
{
    char call[160];
    struct fake_domain *d;
    int rc, i;

    (void)xch;
    pthread_mutex_lock(&lock);
    snprintf(call, sizeof(call), "destroy %s", name_of(domid));
    d = by_id(domid);
    logf_("%s", call);
    if ( scripted(call, &rc) < 0 )
    {
        /* outside the steps: the cleanup's destroy, as the script's zombies and stuck teardowns say */
        rc = d && d->exists ? 0 : -ESRCH;
        if ( d && d->exists )
        {
            d->dying = 1;
            d->looks_left = 3;
            for ( i = 0; i < nzombies; i++ )
                if ( !strcmp(zombie[i], d->name) )
                {
                    d->pages = zombie_pages[i];
                    d->looks_left = -1;
                }
            for ( i = 0; i < nstuck; i++ )
                if ( !strcmp(stuck[i], d->name) )
                {
                    rc = -stuck_errno[i];
                    d->looks_left = -1;
                }
        }
    }
    pthread_mutex_unlock(&lock);
    return rc < 0 ? fail(-rc) : rc;
}

int xc_shadow_control(xc_interface *xch, uint32_t domid, unsigned int sop, unsigned int *mb, unsigned int mode)
{
    char call[160];
    int rc;

    (void)xch;
    (void)mb;
    (void)mode;
    pthread_mutex_lock(&lock);
    snprintf(call, sizeof(call), "log_dirty %s %s", name_of(domid), sop == XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY ? "on" : "off");
    rc = answered_call(call, 0);
    pthread_mutex_unlock(&lock);
    return rc < 0 ? fail(-rc) : rc;
}

int xc_get_paging_mempool_size(xc_interface *xch, uint32_t domid, uint64_t *size)
{
    (void)xch;
    (void)domid;
    *size = 1 << 20;
    return 0;
}

int xc_set_paging_mempool_size(xc_interface *xch, uint32_t domid, uint64_t size)
{
    (void)xch;
    log_call("mempool", domid, NULL, (unsigned long long)size);
    /* emptying a pool stops at the pages in use, as hap_set_allocation does */
    return size == 0 ? fail(ENOMEM) : 0;
}

int xc_domain_getinfolist(xc_interface *xch, uint32_t first_domain, unsigned int max_domains, xc_domaininfo_t *info)
{
    struct fake_domain *best = NULL;
    int i;

    (void)xch;
    if ( max_domains < 1 )
        return 0;
    pthread_mutex_lock(&lock);
    if ( first_domain == 0 )
    {
        memset(info, 0, sizeof(*info));
        info->domain = 0;
        info->flags = dom0_pvh ? XEN_DOMINF_hvm_guest : 0;
        info->tot_pages = 100000;
        pthread_mutex_unlock(&lock);
        return 1;
    }
    for ( i = 0; i < ndoms; i++ )
    {
        struct fake_domain *d = &doms[i];

        /* a destroyed domain is freed after a few looks (its last reference goes) */
        if ( d->exists && d->dying && d->looks_left > 0 && d->id >= first_domain && --d->looks_left == 0 )
            d->exists = 0;
        if ( d->exists && d->id >= first_domain && (!best || d->id < best->id) )
            best = d;
    }
    if ( best )
    {
        memset(info, 0, sizeof(*info));
        info->domain = best->id;
        info->flags = best->dying ? XEN_DOMINF_dying : 0;
        info->tot_pages = best->pages;
    }
    pthread_mutex_unlock(&lock);
    return best ? 1 : 0;
}

int xc_domain_maximum_gpfn(xc_interface *xch, uint32_t domid, xen_pfn_t *gpfns)
{
    (void)xch;
    (void)domid;
    *gpfns = dom0_max_gpfn;
    return 0;
}
