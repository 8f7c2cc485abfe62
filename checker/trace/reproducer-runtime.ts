// The fixed part of every reproducer: the C that creates the universe on a Xen host, issues the
// calls the generated tables list (on one thread, on one thread per vCPU in turn, or racing), compares
// each answer and what dom0 sees with the model's predictions, cleans up, and says what it found.
// reproducer-c.ts writes the tables in front of it. Kept apart so that the C reads as C.
//
// Written against libxenctrl's stable calls (Xen 4.17's headers, as Debian ships them, to head):
// xc_domain_create, _setmaxmem, _set_target, _populate_physmap, _decrease_reservation,
// _add_to_physmap_batch, _remove_from_physmap, _destroy, _getinfolist, xc_set_paging_mempool_size,
// xc_shadow_control, xc_readconsolering, xc_version, xc_physinfo.
export const C_INCLUDES = String.raw`#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#include <xenctrl.h>
`;

/** The shapes of the generated tables (after the sizes, before the tables). */
export const C_TYPES = String.raw`
#define OBS_NONE (-1) /* not observed here */
#define OBS_ALIVE 0
#define OBS_DYING 1   /* listed with XEN_DOMINF_dying: being torn down, or a zombie */
#define OBS_GONE 2    /* no longer listed */
#define PAGES_ANY (-1)

#define RC_FAULT INT_MIN              /* the model's Xen faults here in every build */
#define RC_NOT_COMPARED (INT_MIN + 1) /* a call the program makes for the model's sake (a pool emptied) */
#define RC_NO_CODE (INT_MIN + 2)      /* the host: 0 of 1 extents done; a memory op gives no errno then */

enum op { OP_POPULATE, OP_DECREASE, OP_ADD_FOREIGN, OP_REMOVE, OP_DESTROY, OP_LOG_DIRTY, OP_EMPTY_POOL, OP_NONE };

/* A domain of the trace: dom0 is the host's own; the others are created (hvm 0: PVH). */
struct dom_spec { const char *name, *text; int hardware, hvm, target; };
/* A page of the initial state: the domain, its gfn above --gfn-base, the extent's order. */
struct page_spec { int dom; unsigned long offset; unsigned int order; };
/* A host call: the model's operation, its domains (indices) and gfn offsets, its thread, whether it races. */
struct call_spec
{
    enum op op;
    int d;
    unsigned long g;
    int f;
    unsigned long gf;
    int on, thread, race, first, restore_pool;
    const char *steps, *text, *why;
};
/* A domain as dom0 sees it: OBS_ALIVE, OBS_DYING, OBS_GONE (OBS_NONE: not looked at); its pages, or PAGES_ANY. */
struct observation { int life; long long pages; };
/* The host's run as the model predicts it, for one order of the calls (the trace's own first). */
struct class_spec
{
    const char *name;
    int rc[NCALLS];
    struct observation after[NCALLS][NDOMS];
    int end_known;
    struct observation end[NDOMS];
    const char *signature, *alike;
    const char *fault[NCALLS];
};
`;

export const C_RUNTIME = String.raw`
/* ------------------------------------------------------------------------------------------------
 * The runtime: the same in every reproducer.
 * ------------------------------------------------------------------------------------------------ */

#define EXIT_NOT_REPRODUCED 0
#define EXIT_NOT_RUN 2
#define EXIT_REPRODUCED 12
#define EXIT_DIVERGED 13
#define EXIT_INTERRUPTED 130

static xc_interface *xch;
static uint32_t domid[NDOMS];
static int created[NDOMS];
static uint64_t baseline[NDOMS]; /* tot_pages once created, before any page */
static int dom0_pages_set_up;
static uint64_t pool_size[NDOMS];
static int pool_emptied[NDOMS];
static unsigned long gfn_base = DEFAULT_GFN_BASE;
static unsigned long attempts = DEFAULT_ATTEMPTS;
static unsigned long settle_ms = 2000;
static unsigned long jitter_us = 500;
static int dry_run;
static int use_hap = 1;
static int host_build = -1; /* 1 debug, 0 release, -1 unknown */
static volatile sig_atomic_t interrupted;
static uint32_t console_index; /* where the console ring was read up to */

static int host_rc[NCALLS];
static struct timespec call_start[NCALLS], call_end[NCALLS];
static volatile int last_started = -1; /* the latest call issued: where an interruption is reported */

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static const char *errno_name(int e)
{
    switch ( e )
    {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    case ENXIO: return "ENXIO";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case EINVAL: return "EINVAL";
    case ENOSPC: return "ENOSPC";
    case EILSEQ: return "EILSEQ";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EAGAIN: return "EAGAIN";
    default: return NULL;
    }
}

/* A return code as the trace prints it: 0, -EPERM, FAULT. */
static const char *rc_text(int rc, char *buf, size_t len)
{
    if ( rc == RC_FAULT )
        return "FAULT (the hypervisor goes down)";
    if ( rc == RC_NOT_COMPARED )
        return "(not compared)";
    if ( rc == RC_NO_CODE )
        return "0 of 1 extents done (no error code)";
    if ( rc < 0 && errno_name(-rc) )
        snprintf(buf, len, "-%s", errno_name(-rc));
    else
        snprintf(buf, len, "%d", rc);
    return buf;
}

/* Whether the host's answer is the model's: a memory op that did nothing matches any error. */
static int rc_matches(int model, int host)
{
    if ( model == RC_NOT_COMPARED )
        return 1;
    if ( host == RC_NO_CODE )
        return model < 0 && model != RC_FAULT;
    return model == host;
}

static double elapsed_us(const struct timespec *a, const struct timespec *b)
{
    return (b->tv_sec - a->tv_sec) * 1e6 + (b->tv_nsec - a->tv_nsec) / 1e3;
}

static void sleep_ms(unsigned long ms)
{
    struct timespec t = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

    nanosleep(&t, NULL);
}

static uint32_t domid_of(int d)
{
    return DOMS[d].hardware ? 0 : domid[d];
}

static xen_pfn_t gfn_at(unsigned long offset)
{
    return gfn_base + offset;
}

/* ---- what the program prints of the trace ---- */

static void print_header(void)
{
    int i, d;

    printf("reproducer of %s: %s\n", TRACE_FILE, PROPERTY);
    printf("  model: %s\n", MESSAGE);
    printf("  generated by %s from %s on %s%s\n", GENERATOR, XEN_MODEL, BACKEND, XEN_MODEL_NOTE);
    if ( VARIANT[0] )
        printf("  %s\n", VARIANT);
    printf("  kind: %s\n", KIND);
    for ( i = 0; NOTES[i]; i++ )
        printf("  note: %s\n", NOTES[i]);
    printf("  universe:");
    for ( d = 0; d < NDOMS; d++ )
        printf("%s%s", d ? ", " : " ", DOMS[d].text);
    printf("; gfn g of the model is host gfn %#lx + g%s\n", gfn_base, SUPERPAGES ? " (a superpage pair 2i, 2i+1 at + 512i, + 512i + 1)" : "");
}

static void describe_call(int k, char *buf, size_t len)
{
    const struct call_spec *c = &CALLS[k];
    char dom[32], other[32];

    if ( dry_run )
    {
        snprintf(dom, sizeof(dom), "<%s>", DOMS[c->d < 0 ? 0 : c->d].name);
        snprintf(other, sizeof(other), "<%s>", DOMS[c->f < 0 ? 0 : c->f].name);
    }
    else
    {
        snprintf(dom, sizeof(dom), "%u", c->d < 0 ? 0 : domid_of(c->d));
        snprintf(other, sizeof(other), "%u", c->f < 0 ? 0 : domid_of(c->f));
    }
    switch ( c->op )
    {
    case OP_POPULATE:
        snprintf(buf, len, "xc_domain_populate_physmap(domid %s, 1 extent of order 0 at gfn %#lx)", dom, (unsigned long)gfn_at(c->g));
        break;
    case OP_DECREASE:
        snprintf(buf, len, "xc_domain_decrease_reservation(domid %s, 1 extent of order 0 at gfn %#lx)", dom, (unsigned long)gfn_at(c->g));
        break;
    case OP_ADD_FOREIGN:
        snprintf(buf, len, "xc_domain_add_to_physmap_batch(domid %s, foreign domid %s, XENMAPSPACE_gmfn_foreign, idx %#lx -> gpfn %#lx)",
                 dom, other, (unsigned long)gfn_at(c->gf), (unsigned long)gfn_at(c->g));
        break;
    case OP_REMOVE:
        snprintf(buf, len, "xc_domain_remove_from_physmap(domid %s, gpfn %#lx)", dom, (unsigned long)gfn_at(c->g));
        break;
    case OP_DESTROY:
        snprintf(buf, len, "xc_domain_destroy(domid %s)", dom);
        break;
    case OP_LOG_DIRTY:
        snprintf(buf, len, "xc_shadow_control(domid %s, %s)", dom, c->on ? "XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY" : "XEN_DOMCTL_SHADOW_OP_OFF");
        break;
    case OP_EMPTY_POOL:
        snprintf(buf, len, "xc_set_paging_mempool_size(domid %s, 0)", dom);
        break;
    case OP_NONE:
        snprintf(buf, len, "(not issued)");
        break;
    }
}

static void print_obs(const char *what, const struct observation *got, const struct observation *want)
{
    static const char *const life[] = { "alive", "dying", "gone" };
    int d, first = 1;

    printf("        %s:", what);
    for ( d = 0; d < NDOMS; d++ )
    {
        if ( want[d].life == OBS_NONE )
            continue;
        printf("%s %s ", first ? "" : ",", DOMS[d].name);
        if ( got[d].life == OBS_GONE )
            printf("gone");
        else if ( want[d].pages == PAGES_ANY || want[d].life == OBS_GONE )
            printf("%s", life[got[d].life]);
        else
            printf("%s %lld page%s", life[got[d].life], got[d].pages, got[d].pages == 1 ? "" : "s");
        if ( got[d].life != want[d].life || (want[d].life != OBS_GONE && want[d].pages != PAGES_ANY && got[d].pages != want[d].pages) )
        {
            if ( want[d].life == OBS_GONE || want[d].pages == PAGES_ANY )
                printf(" (model: %s)", life[want[d].life]);
            else
                printf(" (model: %s %lld)", life[want[d].life], want[d].pages);
        }
        first = 0;
    }
    printf("\n");
}

/* ---- the host ---- */

static int observe_matches(const struct observation *got, const struct observation *want)
{
    int d;

    for ( d = 0; d < NDOMS; d++ )
    {
        if ( want[d].life == OBS_NONE )
            continue;
        if ( got[d].life != want[d].life )
            return 0;
        if ( want[d].life != OBS_GONE && want[d].pages != PAGES_ANY && got[d].pages != want[d].pages )
            return 0;
    }
    return 1;
}

/* Each created domain as dom0 sees it: listed or not, dying or not, its pages beyond its baseline. */
static void observe(struct observation *got)
{
    int d;

    for ( d = 0; d < NDOMS; d++ )
    {
        xc_domaininfo_t info;

        got[d].life = OBS_NONE;
        got[d].pages = 0;
        if ( DOMS[d].hardware || !created[d] )
            continue;
        memset(&info, 0, sizeof(info));
        if ( xc_domain_getinfolist(xch, domid[d], 1, &info) == 1 && info.domain == domid[d] )
        {
            got[d].life = (info.flags & XEN_DOMINF_dying) ? OBS_DYING : OBS_ALIVE;
            got[d].pages = (long long)info.tot_pages - (long long)baseline[d];
        }
        else
            got[d].life = OBS_GONE;
    }
}

/*
 * Watches the domains until they are what the model says, for up to --settle-ms: a destroyed domain
 * goes once its last reference does (an RCU callback); a zombie must still be there at the end.
 */
static int settle(const struct observation *want, struct observation *got)
{
    struct timespec t0, now;
    int d, waits_for_dying = 0;

    for ( d = 0; d < NDOMS; d++ )
        waits_for_dying |= want[d].life == OBS_DYING;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for ( ;; )
    {
        observe(got);
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ( interrupted )
            return observe_matches(got, want);
        if ( observe_matches(got, want) && !waits_for_dying )
            return 1;
        if ( elapsed_us(&t0, &now) >= settle_ms * 1000.0 )
            return observe_matches(got, want);
        sleep_ms(10);
    }
}

/* The host's answer to host call k, as the model writes return codes (0 or -errno). */
static int issue(int k)
{
    const struct call_spec *c = &CALLS[k];
    uint32_t dom = c->d < 0 ? 0 : domid_of(c->d);
    xen_pfn_t gpfn = gfn_at(c->g);
    int r = 0;

    switch ( c->op )
    {
    case OP_POPULATE:
        r = xc_domain_populate_physmap(xch, dom, 1, 0, 0, &gpfn);
        return r == 1 ? 0 : r == 0 ? RC_NO_CODE : -errno;
    case OP_DECREASE:
        r = xc_domain_decrease_reservation(xch, dom, 1, 0, &gpfn);
        return r == 1 ? 0 : r == 0 ? RC_NO_CODE : -errno;
    case OP_ADD_FOREIGN:
    {
        xen_ulong_t idx = gfn_at(c->gf);
        int err = 0;

        r = xc_domain_add_to_physmap_batch(xch, dom, domid_of(c->f), XENMAPSPACE_gmfn_foreign, 1, &idx, &gpfn, &err);
        return r < 0 ? -errno : err;
    }
    case OP_REMOVE:
        r = xc_domain_remove_from_physmap(xch, dom, gpfn);
        break;
    case OP_DESTROY:
        r = xc_domain_destroy(xch, dom);
        break;
    case OP_LOG_DIRTY:
        r = xc_shadow_control(xch, dom, c->on ? XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY : XEN_DOMCTL_SHADOW_OP_OFF, NULL, 0);
        break;
    case OP_EMPTY_POOL:
        /* every free page of the pool goes back: the next table allocation of this domain fails */
        if ( xc_get_paging_mempool_size(xch, dom, &pool_size[c->d]) == 0 )
            pool_emptied[c->d] = 1;
        xc_set_paging_mempool_size(xch, dom, 0);
        return RC_NOT_COMPARED;
    case OP_NONE:
        return RC_NOT_COMPARED;
    }
    return r < 0 ? -errno : r;
}

static void restore_pool(int d)
{
    if ( d >= 0 && pool_emptied[d] )
    {
        xc_set_paging_mempool_size(xch, domid_of(d), pool_size[d]);
        pool_emptied[d] = 0;
    }
}

/* Creates the trace's universe: the domains, their device-model targets, the initial pages. */
static int create_universe(void)
{
    int d, i;

    memset(created, 0, sizeof(created));
    dom0_pages_set_up = 0;
    for ( d = 0; d < NDOMS; d++ )
    {
        struct xen_domctl_createdomain cfg;
        xc_domaininfo_t info;
        uint32_t id = 0;

        if ( DOMS[d].hardware )
            continue;
        memset(&cfg, 0, sizeof(cfg));
        cfg.flags = XEN_DOMCTL_CDF_hvm | (use_hap ? XEN_DOMCTL_CDF_hap : 0);
        cfg.max_vcpus = 1;
        cfg.max_evtchn_port = 31;
        cfg.max_grant_frames = -1;
        cfg.max_maptrack_frames = -1;
        cfg.grant_opts = XEN_DOMCTL_GRANT_version(1);
        /* PVH: the local APIC only; HVM: the emulated platform (no device model runs: no vCPU does) */
        cfg.arch.emulation_flags = DOMS[d].hvm ? (XEN_X86_EMU_ALL & ~XEN_X86_EMU_VPCI) : XEN_X86_EMU_LAPIC;
        if ( xc_domain_create(xch, &id, &cfg) )
        {
            printf("  cannot create %s: xc_domain_create: %s\n", DOMS[d].name, strerror(errno));
            return -1;
        }
        domid[d] = id;
        created[d] = 1;
        if ( xc_domain_setmaxmem(xch, id, MAXMEM_KB[d]) )
        {
            printf("  cannot set %s's maximum memory: %s\n", DOMS[d].name, strerror(errno));
            return -1;
        }
        memset(&info, 0, sizeof(info));
        baseline[d] = xc_domain_getinfolist(xch, id, 1, &info) == 1 && info.domain == id ? info.tot_pages : 0;
    }
    for ( d = 0; d < NDOMS; d++ )
        if ( DOMS[d].target >= 0 && xc_domain_set_target(xch, domid[d], domid[DOMS[d].target]) )
        {
            printf("  cannot make %s the device model of %s: xc_domain_set_target: %s\n", DOMS[d].name, DOMS[DOMS[d].target].name, strerror(errno));
            return -1;
        }
    for ( i = 0; i < NPAGES; i++ )
    {
        xen_pfn_t gpfn = gfn_at(PAGES[i].offset);

        if ( DOMS[PAGES[i].dom].hardware )
            dom0_pages_set_up = 1;
        if ( xc_domain_populate_physmap_exact(xch, domid_of(PAGES[i].dom), 1, PAGES[i].order, 0, &gpfn) )
        {
            printf("  cannot populate %s's gfn %#lx (order %u): %s\n", DOMS[PAGES[i].dom].name, (unsigned long)gfn_at(PAGES[i].offset), PAGES[i].order, strerror(errno));
            return -1;
        }
    }
    return 0;
}

static void print_universe(void)
{
    int d;

    printf("  created:");
    for ( d = 0; d < NDOMS; d++ )
        if ( DOMS[d].hardware )
            continue;
        else if ( baseline[d] )
            printf(" %s is domain %u (%llu pages of its own once created: page counts are taken beyond them);", DOMS[d].name, domid[d], (unsigned long long)baseline[d]);
        else
            printf(" %s is domain %u;", DOMS[d].name, domid[d]);
    printf(" dom0 is the host's own\n");
}

/*
 * Empties what the program put in dom0's p2m (decrease, then remove: a foreign entry is only
 * removed), then destroys every domain it created. A domain that outlives this is reported by the
 * caller: a zombie cannot be destroyed further.
 */
static void cleanup_universe(int verbose)
{
    int d, i;

    for ( d = 0; d < NDOMS; d++ )
        restore_pool(d);
    if ( dom0_pages_set_up )
        for ( i = 0; i < NGFNS; i++ )
        {
            xen_pfn_t gpfn = gfn_at(GFN_OFFSETS[i]);

            xc_domain_decrease_reservation(xch, 0, 1, 0, &gpfn);
            xc_domain_remove_from_physmap(xch, 0, gfn_at(GFN_OFFSETS[i]));
        }
    dom0_pages_set_up = 0;
    for ( d = 0; d < NDOMS; d++ )
    {
        if ( !created[d] )
            continue;
        if ( xc_domain_destroy(xch, domid[d]) && errno != ESRCH && verbose )
            printf("  cleanup: xc_domain_destroy(%u) (%s): %s\n", domid[d], DOMS[d].name, strerror(errno));
    }
}

/* After a cleanup: the domains still listed (a zombie, a teardown that cannot finish), for the last line. */
static void left_behind(char *buf, size_t len)
{
    struct observation got[NDOMS];
    int d;
    size_t n = 0;

    buf[0] = 0;
    observe(got);
    for ( d = 0; d < NDOMS; d++ )
        if ( got[d].life == OBS_ALIVE || got[d].life == OBS_DYING )
            n += snprintf(buf + n, n < len ? len - n : 0, "%s%s (domain %u, %s)", n ? ", " : "", DOMS[d].name, domid[d], got[d].life == OBS_DYING ? "dying" : "alive");
}

static int finish(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void read_console(int print);

static int finish(int code, const char *fmt, ...)
{
    va_list ap;

    /* what the hypervisor said meanwhile (a release build's printk where a debug one would ASSERT) */
    if ( xch )
        read_console(1);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    if ( xch )
        xc_interface_close(xch);
    return code;
}

/* Waits, up to --settle-ms, for every created domain to be gone (a zombie never is). */
static void wait_gone(void)
{
    struct observation got[NDOMS];
    struct timespec t0, now;
    int d, left;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    do
    {
        observe(got);
        for ( left = 0, d = 0; d < NDOMS; d++ )
            left |= got[d].life == OBS_ALIVE || got[d].life == OBS_DYING;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ( left )
            sleep_ms(10);
    } while ( left && elapsed_us(&t0, &now) < settle_ms * 1000.0 );
}

/* Interrupted: destroy what was created, say so, exit 130. */
static int interrupted_now(void)
{
    char left[512];

    printf("  interrupted: cleaning up\n");
    cleanup_universe(1);
    wait_gone();
    left_behind(left, sizeof(left));
    return finish(EXIT_INTERRUPTED, "interrupted at step %s: %s%s", last_started >= 0 ? CALLS[last_started].steps : "0 (before the first call)",
                  left[0] ? "still listed after destroy: " : "every domain the program created is destroyed", left);
}

/* ---- threads: one per vCPU of the trace (and one per teardown raced by other calls) ---- */

static pthread_mutex_t turn_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_cond = PTHREAD_COND_INITIALIZER;
static int turn = -1, turn_done = -1, workers_quit;
static pthread_t workers[NTHREADS];
static int workers_started;
static pthread_barrier_t race_start;

static void pin(int thread)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    cpu_set_t set;

    if ( cpus <= 1 )
        return;
    CPU_ZERO(&set);
    CPU_SET((int)(thread % cpus), &set);
    pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void run_call(int k)
{
    if ( k > last_started )
        last_started = k;
    clock_gettime(CLOCK_MONOTONIC, &call_start[k]);
    host_rc[k] = issue(k);
    clock_gettime(CLOCK_MONOTONIC, &call_end[k]);
}

/* A vCPU's thread: it runs the call whose turn it is, when that call is its own. */
static void *vcpu_thread(void *arg)
{
    int t = (int)(intptr_t)arg, k;

    pin(t);
    pthread_mutex_lock(&turn_lock);
    for ( ;; )
    {
        while ( !workers_quit && (turn < 0 || CALLS[turn].thread != t) )
            pthread_cond_wait(&turn_cond, &turn_lock);
        if ( workers_quit )
            break;
        k = turn;
        turn = -1;
        pthread_mutex_unlock(&turn_lock);
        run_call(k);
        pthread_mutex_lock(&turn_lock);
        turn_done = k;
        pthread_cond_broadcast(&turn_cond);
    }
    pthread_mutex_unlock(&turn_lock);
    return NULL;
}

static void start_vcpu_threads(void)
{
    intptr_t t;

    for ( t = 0; t < NTHREADS; t++ )
        pthread_create(&workers[t], NULL, vcpu_thread, (void *)t);
    workers_started = 1;
}

static void stop_vcpu_threads(void)
{
    int t;

    if ( !workers_started )
        return;
    pthread_mutex_lock(&turn_lock);
    workers_quit = 1;
    pthread_cond_broadcast(&turn_cond);
    pthread_mutex_unlock(&turn_lock);
    for ( t = 0; t < NTHREADS; t++ )
        pthread_join(workers[t], NULL);
    workers_started = 0;
}

/* Call k, whole, on its vCPU's thread once the previous call returned (the barrier between calls). */
static void run_in_turn(int k)
{
    if ( !workers_started )
    {
        run_call(k);
        return;
    }
    pthread_mutex_lock(&turn_lock);
    turn_done = -1;
    turn = k;
    pthread_cond_broadcast(&turn_cond);
    while ( turn_done != k )
        pthread_cond_wait(&turn_cond, &turn_lock);
    pthread_mutex_unlock(&turn_lock);
}

struct racer
{
    int thread, n, calls[NCALLS];
    unsigned long delay_us;
};

static void spin_us(unsigned long us)
{
    struct timespec t0, now;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    do
        clock_gettime(CLOCK_MONOTONIC, &now);
    while ( elapsed_us(&t0, &now) < us );
}

/* A racing thread: waits for the others, lets a random time pass, issues its calls in the trace's order. */
static void *race_thread(void *arg)
{
    struct racer *r = arg;
    int i;

    pin(r->thread);
    pthread_barrier_wait(&race_start);
    spin_us(r->delay_us);
    for ( i = 0; i < r->n; i++ )
        run_call(r->calls[i]);
    return NULL;
}

/* Issues the racing calls at once, one thread per vCPU (or teardown); the first to start in the trace is not delayed. */
static void run_race(unsigned int *seed)
{
    struct racer racers[NTHREADS];
    pthread_t tids[NTHREADS];
    int n = 0, i, j;

    for ( i = 0; i < NRACE; i++ )
    {
        int k = RACE[i];

        for ( j = 0; j < n && racers[j].thread != CALLS[k].thread; j++ )
            ;
        if ( j == n )
        {
            racers[n].thread = CALLS[k].thread;
            racers[n].n = 0;
            racers[n].delay_us = i == 0 || jitter_us == 0 ? 0 : (unsigned long)rand_r(seed) % (jitter_us + 1);
            n++;
        }
        racers[j].calls[racers[j].n++] = k;
    }
    pthread_barrier_init(&race_start, NULL, n);
    for ( j = 0; j < n; j++ )
        pthread_create(&tids[j], NULL, race_thread, &racers[j]);
    for ( j = 0; j < n; j++ )
        pthread_join(tids[j], NULL);
    pthread_barrier_destroy(&race_start);
}

/* ---- the run ---- */

/* One call, compared with the prediction of class cl; 0 when it matched. Prints the step. */
static int compare_call(int k, int cl, int print)
{
    char what[256], hb[64], mb[64];
    const struct call_spec *c = &CALLS[k];
    int same = rc_matches(CLASSES[cl].rc[k], host_rc[k]);

    if ( !print )
        return !same;
    describe_call(k, what, sizeof(what));
    printf("step %-5s %s\n", c->steps, c->text);
    printf("        %s: host %s, model %s%s\n", what, rc_text(host_rc[k], hb, sizeof(hb)), rc_text(CLASSES[cl].rc[k], mb, sizeof(mb)), same ? "" : "   <-- differs");
    return !same;
}

static void print_step_warning(int k)
{
    const struct call_spec *c = &CALLS[k];

    if ( c->op == OP_NONE )
        return;
    if ( CLASSES[0].rc[k] == RC_FAULT )
        printf("warning: step %s: the model's Xen faults here in every build (%s): the host goes down now\n", c->steps, CLASSES[0].fault[k] ? CLASSES[0].fault[k] : "a fault");
    else if ( CLASSES[0].fault[k] && host_build != 0 )
        printf("warning: step %s: the model's debug build fails %s here: a debug hypervisor with this bug panics there (look for the assertion on its serial console); a release one returns the model's release answer\n",
               c->steps, CLASSES[0].fault[k]);
    fflush(stdout);
}

/* Issues calls [from, to) that are not racing, in order, comparing each; returns the first that differs, or -1. */
static int run_sequence(int from, int to, int cl, int print, int *diverged_obs)
{
    struct observation got[NDOMS];
    int k;

    *diverged_obs = 0;
    for ( k = from; k < to; k++ )
    {
        if ( interrupted )
            return -2 - k;
        if ( CALLS[k].race )
            continue;
        if ( CALLS[k].op == OP_NONE )
        {
            if ( print )
                printf("step %-5s %s\n        not issued: %s\n", CALLS[k].steps, CALLS[k].text, CALLS[k].why);
            continue;
        }
        if ( print )
            print_step_warning(k);
        run_in_turn(k);
        if ( CALLS[k].op == OP_EMPTY_POOL && print )
            printf("step %-5s %s\n        %s\n", CALLS[k].steps, CALLS[k].text, CALLS[k].why);
        if ( CALLS[k].op != OP_EMPTY_POOL && compare_call(k, cl, print) )
            return k;
        restore_pool(CALLS[k].restore_pool);
        if ( !settle(CLASSES[cl].after[k], got) )
        {
            if ( print )
                print_obs("domains", got, CLASSES[cl].after[k]);
            *diverged_obs = 1;
            return k;
        }
        if ( print )
            print_obs("domains", got, CLASSES[cl].after[k]);
    }
    return -1;
}

static int describe_divergence(int k, int obs, int cl, char *buf, size_t len)
{
    char hb[64], mb[64];

    if ( obs )
        snprintf(buf, len, "after %s the domains are not what the model (%s) says", CALLS[k].text, CLASSES[cl].name);
    else
        snprintf(buf, len, "%s returned %s, the model %s", CALLS[k].text, rc_text(host_rc[k], hb, sizeof(hb)), rc_text(CLASSES[cl].rc[k], mb, sizeof(mb)));
    return CALLS[k].first;
}

/* The cleanup, watched: what the model says is left of each domain once every one was destroyed. */
static int cleanup_matches(int cl, int print)
{
    struct observation got[NDOMS];
    int same;

    if ( print && CLEANUP_FAULT[0] )
        printf("warning: the model's debug build fails %s during the cleanup: a debug hypervisor panics there\n", CLEANUP_FAULT);
    fflush(stdout);
    cleanup_universe(print);
    if ( !CLASSES[cl].end_known )
        return 1;
    same = settle(CLASSES[cl].end, got);
    if ( print )
    {
        printf("cleanup  %severy created domain destroyed, watched for %lu ms\n", TOUCHES_DOM0 ? "dom0's gfns emptied, " : "", settle_ms);
        print_obs("domains", got, CLASSES[cl].end);
    }
    return same;
}

static int verdict_after_cleanup(int cl, int same_end)
{
    char left[512];

    if ( !same_end )
    {
        left_behind(left, sizeof(left));
        if ( CLASSES[cl].signature )
            return finish(EXIT_NOT_REPRODUCED, "not reproduced: every call answered as the model says, but after the cleanup the domains are not what it predicts (%s)%s%s",
                          CLASSES[cl].signature, left[0] ? "; still listed: " : "; nothing is left", left);
        return finish(EXIT_DIVERGED, "diverged at step %d: the cleanup leaves %s, which the model does not", CALLS[NCALLS - 1].first, left[0] ? left : "something else");
    }
    if ( CLASSES[cl].signature )
        return finish(EXIT_REPRODUCED, "reproduced: %s (the model's %s, %s)", CLASSES[cl].signature, PROPERTY, CLASSES[cl].name);
    return finish(EXIT_NOT_REPRODUCED, "not reproduced: %s", UNOBSERVABLE);
}

static int run_once(void)
{
    char why[512];
    int k, obs, step;

    if ( create_universe() )
    {
        cleanup_universe(1);
        return finish(EXIT_NOT_RUN, "not run: the universe could not be created (see above)");
    }
    print_universe();
    k = run_sequence(0, NCALLS, 0, 1, &obs);
    if ( k <= -2 )
        return interrupted_now();
    if ( interrupted )
        return interrupted_now();
    if ( k >= 0 )
    {
        step = describe_divergence(k, obs, 0, why, sizeof(why));
        cleanup_universe(1);
        return finish(EXIT_DIVERGED, "diverged at step %d: %s", step, why);
    }
    k = cleanup_matches(0, 1);
    if ( interrupted )
        return interrupted_now();
    return verdict_after_cleanup(0, k);
}

/* Which prediction a race's outcome is: its racing calls' answers, then the domains after them. */
static int classify_race(struct observation *got)
{
    int cl, i;

    for ( cl = 0; cl < NCLASSES; cl++ )
    {
        for ( i = 0; i < NRACE && rc_matches(CLASSES[cl].rc[RACE[i]], host_rc[RACE[i]]); i++ )
            ;
        if ( i < NRACE )
            continue;
        if ( settle(CLASSES[cl].after[RACE[NRACE - 1]], got) )
            return cl;
    }
    return -1;
}

/* An attempt: its outcome, and each racing call's answer with when it ran (from the first start). */
static void print_race(int attempt, int cl)
{
    const struct timespec *t0 = &call_start[RACE[0]];
    char hb[64];
    int i;

    for ( i = 1; i < NRACE; i++ )
        if ( elapsed_us(&call_start[RACE[i]], t0) > 0 )
            t0 = &call_start[RACE[i]];
    printf("attempt %d: %s:", attempt, cl >= 0 ? CLASSES[cl].name : "an outcome the model gives for no order");
    for ( i = 0; i < NRACE; i++ )
    {
        int k = RACE[i];

        printf("%s %s = %s (%.0f to %.0f us)", i ? ";" : "", CALLS[k].text, rc_text(host_rc[k], hb, sizeof(hb)), elapsed_us(t0, &call_start[k]), elapsed_us(t0, &call_end[k]));
    }
    printf("\n");
}

static int run_races(void)
{
    unsigned long tally[NCLASSES + 1];
    unsigned long attempt;
    unsigned int seed = 1;
    char why[512];
    int k, obs, cl, same, step;
    struct observation got[NDOMS];

    memset(tally, 0, sizeof(tally));
    for ( k = 0; k < NCALLS; k++ )
        print_step_warning(k);
    printf("racing: %lu attempts, the later thread delayed by 0 to %lu us (--attempts, --jitter-us)\n", attempts, jitter_us);
    for ( attempt = 1; attempt <= attempts; attempt++ )
    {
        if ( interrupted )
            return interrupted_now();
        if ( create_universe() )
        {
            cleanup_universe(1);
            return finish(EXIT_NOT_RUN, "not run: the universe could not be created (see above)");
        }
        if ( attempt == 1 )
            print_universe();
        /* the calls before the race, as the trace has them */
        k = run_sequence(0, RACE[0], 0, attempt == 1, &obs);
        if ( k <= -2 )
            return interrupted_now();
        if ( k >= 0 )
        {
            step = describe_divergence(k, obs, 0, why, sizeof(why));
            cleanup_universe(1);
            return finish(EXIT_DIVERGED, "diverged at step %d: %s", step, why);
        }
        run_race(&seed);
        cl = classify_race(got);
        tally[cl < 0 ? NCLASSES : cl]++;
        if ( cl != 0 || attempt == 1 || attempt % 50 == 0 )
            print_race((int)attempt, cl);
        if ( cl < 0 )
        {
            cleanup_universe(1);
            continue;
        }
        /* the calls after it, predicted for the order it took */
        k = run_sequence(RACE[NRACE - 1] + 1, NCALLS, cl, cl == 0, &obs);
        if ( k <= -2 )
            return interrupted_now();
        if ( k >= 0 )
        {
            step = describe_divergence(k, obs, cl, why, sizeof(why));
            cleanup_universe(1);
            return finish(EXIT_DIVERGED, "diverged at step %d (the race ran as %s): %s", step, CLASSES[cl].name, why);
        }
        same = cleanup_matches(cl, cl == 0 && CLASSES[0].signature != NULL);
        if ( interrupted )
            return interrupted_now();
        if ( cl == 0 && CLASSES[0].signature )
        {
            printf("the window was hit at attempt %lu\n", attempt);
            return verdict_after_cleanup(0, same);
        }
        if ( !same )
        {
            printf("attempt %lu (%s): the cleanup does not leave what the model says\n", attempt, CLASSES[cl].name);
            return verdict_after_cleanup(cl, same);
        }
    }
    printf("outcomes over %lu attempts:\n", attempts);
    for ( cl = 0; cl <= NCLASSES; cl++ )
        if ( tally[cl] )
            printf("  %lu  %s%s%s\n", tally[cl], cl < NCLASSES ? CLASSES[cl].name : "an outcome the model gives for no order",
                   cl < NCLASSES && CLASSES[cl].alike ? " = in sequence: " : "", cl < NCLASSES && CLASSES[cl].alike ? CLASSES[cl].alike : "");
    if ( tally[NCLASSES] == attempts )
    {
        return finish(EXIT_DIVERGED, "diverged at step %d: in %lu attempts the racing calls never answered as the model says for any order", CALLS[RACE[0]].first, attempts);
    }
    if ( tally[0] == 0 )
        return finish(EXIT_NOT_REPRODUCED, "not reproduced: the window was not hit in %lu attempts (try more with --attempts, or another --jitter-us)", attempts);
    if ( CLASSES[0].alike )
        return finish(EXIT_NOT_REPRODUCED, "not reproduced: %s; and the race's outcome is also that of the calls in sequence (%s), so a hit cannot be told apart", UNOBSERVABLE, CLASSES[0].alike);
    return finish(EXIT_NOT_REPRODUCED, "not reproduced: the window was hit %lu times in %lu attempts, but %s", tally[0], attempts, UNOBSERVABLE);
}

/* ---- the host's checks ---- */

/*
 * Reads Xen's console ring from console_index on (incrementally); print prints each line as
 * "xen: ...". The first read finds the build in Xen's banner ("Xen version 4.19.1 (...) debug=y").
 */
static void read_console(int print)
{
    static char ring[1 << 16];
    unsigned int n;
    int rounds;

    for ( rounds = 0; rounds < 64; rounds++ )
    {
        char *line, *save;

        n = sizeof(ring) - 1;
        if ( xc_readconsolering(xch, ring, &n, 0, 1, &console_index) || n == 0 )
            break;
        ring[n] = 0;
        if ( host_build < 0 && strstr(ring, "debug=y") )
            host_build = 1;
        else if ( host_build < 0 && strstr(ring, "debug=n") )
            host_build = 0;
        for ( line = strtok_r(ring, "\n", &save); print && line; line = strtok_r(NULL, "\n", &save) )
            printf("xen: %s\n", line);
    }
}

static void cpu_vendor(char *vendor)
{
    vendor[0] = 0;
#if defined(__x86_64__) || defined(__i386__)
    {
        unsigned int a = 0, b = 0, c = 0, d = 0;

        if ( __get_cpuid(0, &a, &b, &c, &d) )
        {
            memcpy(vendor, &b, 4);
            memcpy(vendor + 4, &d, 4);
            memcpy(vendor + 8, &c, 4);
            vendor[12] = 0;
        }
    }
#endif
}

/* What the host is beside what the trace assumes: warnings, except where running would harm dom0. */
static int host_checks(char *why, size_t len)
{
    xen_extraversion_t extra;
    xc_physinfo_t phys;
    char vendor[16];
    int v = xc_version(xch, XENVER_version, NULL), major = v >> 16, minor = v & 0xffff;
    int intel, amd, hap, shadow, k;

    memset(extra, 0, sizeof(extra));
    xc_version(xch, XENVER_extraversion, &extra);
    printf("host: Xen %d.%d%s", major, minor, extra);
    if ( XEN_MIN_MAJOR == 0 )
        printf("; the trace is of %s, which no released Xen is: expect the host to differ\n", XEN_MODEL);
    else if ( major * 1000 + minor < XEN_MIN_MAJOR * 1000 + XEN_MIN_MINOR || (XEN_MAX_MAJOR && major * 1000 + minor > XEN_MAX_MAJOR * 1000 + XEN_MAX_MINOR) )
        printf("; warning: the trace is of %s (%s): the host may answer otherwise\n", XEN_MODEL, XEN_HOSTS);
    else
        printf(" (the trace is of %s: %s)\n", XEN_MODEL, XEN_HOSTS);
    if ( sysconf(_SC_PAGESIZE) != 4096 || XC_PAGE_SIZE != 4096 )
        printf("warning: pages here are %ld bytes; the model's are 4096\n", sysconf(_SC_PAGESIZE));
    read_console(0);
    printf("host: %s build%s\n", host_build == 1 ? "a debug" : host_build == 0 ? "a release" : "an unknown (no debug= in the console ring; --build says)",
           host_build >= 0 ? " (Xen's console banner)" : "");
    for ( k = 0; k < NCALLS && !CLASSES[0].fault[k]; k++ )
        ;
    if ( host_build >= 0 && (host_build == 1) != TRACE_DEBUG && (k < NCALLS || CLEANUP_FAULT[0]) )
        printf("warning: the trace is of a %s build, the host is not; where the builds differ (an ASSERT) the program expects the release path\n", TRACE_DEBUG ? "debug" : "release");
    memset(&phys, 0, sizeof(phys));
    if ( xc_physinfo(xch, &phys) )
    {
        snprintf(why, len, "xc_physinfo: %s", strerror(errno));
        return -1;
    }
    hap = !!(phys.capabilities & XEN_SYSCTL_PHYSCAP_hap);
    shadow = !!(phys.capabilities & XEN_SYSCTL_PHYSCAP_shadow);
    if ( !(phys.capabilities & XEN_SYSCTL_PHYSCAP_hvm) )
    {
        snprintf(why, len, "this host cannot run HVM or PVH domains (no VT-x or AMD-V under Xen)");
        return -1;
    }
    cpu_vendor(vendor);
    intel = !strcmp(vendor, "GenuineIntel");
    amd = !strcmp(vendor, "AuthenticAMD") || !strcmp(vendor, "HygonGenuine");
    if ( !strcmp(BACKEND, "ept") )
    {
        use_hap = hap;
        if ( !intel || !hap )
            printf("warning: the trace is of EPT (p2m-ept.c); this host's domains use %s\n", hap ? "NPT (p2m-pt.c)" : "shadow paging (p2m-pt.c)");
    }
    else
    {
        use_hap = amd && hap;
        if ( !use_hap && !shadow )
        {
            use_hap = hap;
            printf("warning: the trace is of the PT backend (p2m-pt.c); this host has neither NPT nor shadow paging: its domains use EPT\n");
        }
        else
            printf("host: the PT backend is %s here\n", use_hap ? "NPT" : "shadow paging (domains created without XEN_DOMCTL_CDF_hap)");
    }
    if ( SUPERPAGES && (gfn_base & 511) )
    {
        snprintf(why, len, "--gfn-base %#lx is not 2 MiB aligned (a multiple of 512), which superpages need", gfn_base);
        return -1;
    }
    if ( TOUCHES_DOM0 )
    {
        xc_domaininfo_t info;
        xen_pfn_t max = 0;

        memset(&info, 0, sizeof(info));
        if ( xc_domain_getinfolist(xch, 0, 1, &info) != 1 || !(info.flags & XEN_DOMINF_hvm_guest) )
        {
            snprintf(why, len, "the trace maps into dom0's own p2m, which needs a PVH dom0; this host's dom0 is PV (its p2m is not Xen's to change)");
            return -1;
        }
        if ( xc_domain_maximum_gpfn(xch, 0, &max) < 0 )
        {
            snprintf(why, len, "cannot read dom0's highest gfn (xc_domain_maximum_gpfn: %s)", strerror(errno));
            return -1;
        }
        if ( gfn_base <= (unsigned long)max )
        {
            snprintf(why, len, "--gfn-base %#lx is inside dom0's memory (its highest gfn is %#lx): pass --gfn-base above it, e.g. %#lx", gfn_base, (unsigned long)max,
                     ((unsigned long)max + 0x100000) & ~0xfffffUL);
            return -1;
        }
    }
    return 0;
}

/* ---- main ---- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: %s [--gfn-base N] [--attempts N] [--jitter-us N] [--settle-ms N] [--build debug|release] [--dry-run]\n"
            "\n"
            "Runs the counterexample of %s on this Xen host, as root in dom0: creates the trace's domains\n"
            "(empty, paused, no vCPU runs), issues each step's hypercall, compares every answer and the\n"
            "domains dom0 sees with the model's, destroys what it created (also on Ctrl-C), and ends with one line:\n"
            "  reproduced: ...          the host shows what the model predicts of the violation (exit 12)\n"
            "  not reproduced: ...      it does not, or cannot be seen from dom0 (exit 0)\n"
            "  diverged at step N: ...  the host answered otherwise at step N (exit 13)\n"
            "  not run: ...             the host cannot run it as it is (exit 2); interrupted: exit 130\n"
            "\n"
            "  --gfn-base N     host gfn of the model's gfn 0 (default %#lx)\n"
            "  --attempts N     a race: how many times to try it (default %lu)\n"
            "  --jitter-us N    a race: the later thread starts 0 to N microseconds after the first (default %lu)\n"
            "  --settle-ms N    how long to watch a destroyed domain go, or a zombie stay (default %lu)\n"
            "  --build B        the hypervisor's build when its console does not say (debug or release)\n"
            "  --dry-run        print what it would do, touch nothing\n"
            "\n"
            "See docs/reproducers.md of xen-foreign-checker.\n",
            PROGRAM_NAME, TRACE_FILE, (unsigned long)DEFAULT_GFN_BASE, (unsigned long)DEFAULT_ATTEMPTS, jitter_us, settle_ms);
}

static int number_arg(int argc, char **argv, int *i, unsigned long *out)
{
    char *end;

    if ( *i + 1 >= argc )
        return -1;
    errno = 0;
    *out = strtoul(argv[++*i], &end, 0);
    return errno || *end || argv[*i][0] == 0 || argv[*i][0] == '-' ? -1 : 0;
}

static void dry_run_listing(void)
{
    char what[256], mb[64];
    int k, cl;

    printf("dry run: nothing is created\n");
    for ( k = 0; k < NCALLS; k++ )
    {
        describe_call(k, what, sizeof(what));
        printf("step %-5s %s%s\n        %s: model %s\n", CALLS[k].steps, CALLS[k].text, CALLS[k].race ? " (racing)" : "", CALLS[k].op == OP_NONE ? CALLS[k].why : what,
               rc_text(CLASSES[0].rc[k], mb, sizeof(mb)));
    }
    for ( cl = 0; cl < NCLASSES; cl++ )
        printf("prediction %d: %s%s%s; %s\n", cl, CLASSES[cl].name, CLASSES[cl].alike ? " = in sequence: " : "", CLASSES[cl].alike ? CLASSES[cl].alike : "",
               CLASSES[cl].signature ? CLASSES[cl].signature : "nothing dom0 can observe");
}

int main(int argc, char **argv)
{
    struct sigaction sa;
    char why[512];
    int i;

    setvbuf(stdout, NULL, _IOLBF, 0);
    for ( i = 1; i < argc; i++ )
    {
        if ( !strcmp(argv[i], "--help") || !strcmp(argv[i], "-h") )
        {
            usage(stdout);
            return 0;
        }
        else if ( !strcmp(argv[i], "--gfn-base") )
        {
            if ( number_arg(argc, argv, &i, &gfn_base) )
                goto bad;
        }
        else if ( !strcmp(argv[i], "--attempts") )
        {
            if ( number_arg(argc, argv, &i, &attempts) || attempts == 0 )
                goto bad;
        }
        else if ( !strcmp(argv[i], "--jitter-us") )
        {
            if ( number_arg(argc, argv, &i, &jitter_us) )
                goto bad;
        }
        else if ( !strcmp(argv[i], "--settle-ms") )
        {
            if ( number_arg(argc, argv, &i, &settle_ms) )
                goto bad;
        }
        else if ( !strcmp(argv[i], "--build") && i + 1 < argc && (!strcmp(argv[i + 1], "debug") || !strcmp(argv[i + 1], "release")) )
            host_build = !strcmp(argv[++i], "debug");
        else if ( !strcmp(argv[i], "--dry-run") )
            dry_run = 1;
        else
            goto bad;
    }
    print_header();
    if ( dry_run )
    {
        dry_run_listing();
        return 0;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    xch = xc_interface_open(NULL, NULL, 0);
    if ( !xch )
        return finish(EXIT_NOT_RUN, "not run: cannot open libxenctrl (%s): run it as root in dom0 of a Xen host", strerror(errno));
    if ( host_checks(why, sizeof(why)) )
        return finish(EXIT_NOT_RUN, "not run: %s", why);
    /* one thread per vCPU of the trace: a call it does not race runs on it, once the previous returned */
    if ( NTHREADS > 1 )
        start_vcpu_threads();
    i = NRACE > 0 ? run_races() : run_once();
    stop_vcpu_threads();
    return i;

bad:
    fprintf(stderr, "%s: bad argument \"%s\" (see --help)\n", PROGRAM_NAME, argv[i < argc ? i : argc - 1]);
    return EXIT_NOT_RUN;
}
`;
