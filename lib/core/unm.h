/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unm.h - the internal header of the in-process "kernel half" of netmap.
 *
 * The state that netmap keeps in the kernel lives here in shared memory so
 * that several processes (pipes across fork/exec, SCM_RIGHTS) see one world:
 *
 *   /unetmap.kernel       struct unm_kernel: processes, regions (allocators
 *                         and their free bitmaps), ports, krings, privs.
 *   /unetmap.mem.<id>     one region per mem id: netmap_if pool, ring pool,
 *                         buffer pool, laid out as netmap lays them out.
 *
 * LOCKING. One robust, process-shared mutex (unm_kernel.lock) protects every
 * table in the kernel object: open/register/close, the garbage collector, and
 * the rare error path of a sync that needs a fresh buffer. Nothing on the data
 * path takes it. A kring is driven by one syncer at a time (busy_pid, taken
 * with a CAS, the loser gets EBUSY). Pipe rings are single-producer /
 * single-consumer between the two ends: hwtail of an RX kring is written by
 * the peer's txsync only (release), hwcur by its own rxsync only (release);
 * each side reads the other's index with acquire.
 *
 * Per-process state (mappings, the fd table, cached ring pointers) is in
 * struct unm_priv_local and struct unm_mem_local; nothing in shared memory
 * holds a pointer.
 */
#ifndef UNM_CORE_UNM_H
#define UNM_CORE_UNM_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <pthread.h>
#include <sys/types.h>
#include <net/netmap.h>

#ifndef likely
#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)
#endif
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

#define UNM_CACHELINE		64
/*
 * Shared-memory names are "/<prefix>.kernel" and "/<prefix>.mem.<id>"; the
 * prefix is "unetmap" unless UNM_SHM_PREFIX names another world (tests use
 * it to stay apart from whatever else runs on the machine).
 */
#define UNM_SHM_PREFIX_DEFAULT	"unetmap"
#define UNM_KERNEL_SHM		unm_kernel_shm_name()
#define UNM_KERNEL_MAGIC	0x554e4d4b45524e33ULL	/* "UNMKERN3": monitors */
#define UNM_EPOLL_MAGIC		0x554e4d00u		/* epoll data, high word */

#define UNM_MAX_PROCS		128
#define UNM_MAX_MEMS		16
#define UNM_MAX_PORTS		256	/* a full VALE switch has 254 */
#define UNM_MAX_PRIVS		512
#define UNM_MAX_KRINGS		4096
#define UNM_MAX_RINGS		64	/* per direction per port end */
#define UNM_MAX_HOST_RINGS	16	/* host rings per direction of a NIC port */
#define UNM_MAX_SLOTS		4096	/* per ring (NM_PIPE_MAXSLOTS) */
#define UNM_DEF_SLOTS		1024
#define UNM_MAX_BUFS		(1u << 20)
#define UNM_MAX_RINGOBJS	8192
#define UNM_MAX_IFOBJS		1024
#define UNM_KRING_WAITERS	4
#define UNM_OPT_MAX_CHAIN	64	/* longer option chains are refused */
#define UNM_PRIV_SHARE		4	/* processes with their own evfd per priv */

#ifndef NETMAP_REQ_OPT_UNM_POOLS
#define NETMAP_REQ_OPT_UNM_POOLS	0x554e
#endif

enum { UNM_TX = 0, UNM_RX = 1 };

/* ---- shared objects (in /unetmap.kernel) -------------------------------- */

struct unm_proc {
	int32_t pid;			/* 0 = free slot */
	uint32_t pad;
	uint64_t start;			/* /proc/pid/stat starttime */
	uint64_t holds[UNM_MAX_PRIVS / 64];	/* privs this process holds */
};

struct unm_pools {
	uint32_t if_num, if_size;
	uint32_t ring_num, ring_size;
	uint32_t buf_num, buf_size;
};

struct unm_memreg {
	uint16_t id;			/* nr_mem_id; 0 = free slot */
	uint16_t gen;			/* bumped at each creation */
	uint32_t users;			/* ports + privs using it */
	struct unm_pools p;
	uint64_t if_ofs, ring_ofs, buf_ofs, memsize;
	/*
	 * extmem (NETMAP_REQ_OPT_EXTMEM): the region is the program's own
	 * memory at ext_addr in process ext_pid (started at ext_start), not
	 * an shm object; only that process can map it. 0 = an shm region.
	 */
	uint64_t ext_addr;
	uint64_t ext_start;
	int32_t ext_pid;
	uint32_t ext_pad;
	uint32_t buf_free, buf_hint, ring_hint, if_hint;
	uint64_t if_map[UNM_MAX_IFOBJS / 64];	/* bit set = in use */
	uint64_t ring_map[UNM_MAX_RINGOBJS / 64];
	uint64_t buf_map[UNM_MAX_BUFS / 64];
};

/*
 * A kring. The first line belongs to whoever syncs the ring (busy_pid
 * holder); hwcur, also the syncer's, has a line of its own because a pipe
 * peer's txsync reads it (the RX ring's consumer index) while we sync;
 * hwtail belongs to whoever produces into the ring (the ring itself for TX,
 * the peer's txsync for a pipe RX ring); the waiter line to sleepers.
 */
struct unm_kring {
	uint32_t rhead, rcur, rtail;	/* (k) shadow of head/cur/tail, last sync */
	uint32_t num_slots;		/* (c) */
	uint32_t ring_obj;		/* (c) first ring-pool object */
	uint64_t ring_ofs;		/* (c) netmap_ring offset in the region */
	uint32_t peer;			/* (c) pipe peer kring index + 1, 0 = none */
	uint16_t port;			/* (c) port index */
	uint8_t dir, end;		/* (c) UNM_TX/UNM_RX, pipe end 0/1 */
	uint16_t ring_id;		/* (c) */
	uint16_t used;			/* (c) allocated */
	uint32_t users;			/* (c) privs bound to it */
	uint32_t excl;			/* (c) bound NR_EXCLUSIVE */
	int32_t busy_pid;		/* sync in progress by this pid, 0 = idle */
	uint32_t err_cnt;		/* validation errors seen */
	uint32_t nmon;			/* (k) copy monitors tapping this ring (monitor.c) */
	/* (k) first slot not given to the kernel */
	uint32_t hwcur __attribute__((aligned(UNM_CACHELINE)));
	uint32_t hwtail __attribute__((aligned(UNM_CACHELINE))); /* (p) */
	uint32_t pad1[15];
	uint32_t nwaiters __attribute__((aligned(UNM_CACHELINE))); /* (w) */
	uint32_t waiters[UNM_KRING_WAITERS];	/* priv slot + 1, 0 = free */
} __attribute__((aligned(UNM_CACHELINE)));

enum unm_port_kind {
	UNM_PORT_NONE = 0, UNM_PORT_PIPE = 1, UNM_PORT_HW = 2, UNM_PORT_VALE = 3,
	UNM_PORT_MONITOR = 4
};

/* unm_kport.hwflags */
#define UNM_HW_ZEROCOPY		0x1	/* AF_XDP sockets bound in zero-copy mode */
#define UNM_HW_EMULATED		0x2	/* emulated mode: AF_PACKET (afpacket.c) */

/*
 * skb->mark of the frames host.c injects into a NIC's receive path (host TX
 * ring): afpacket.c's RX sockets skip them and its stack-off drop lets them
 * through; host.c takes the mark off before the stack sees them
 */
#define UNM_HOST_MARK		0x756e6d68u	/* "unmh" */

struct unm_kport {
	uint8_t kind;			/* enum unm_port_kind, 0 = free slot */
	uint8_t vale_sw;		/* vale: switch index + 1, 0 = not in a switch */
	uint8_t vale_slot;		/* vale: port slot in the switch */
	uint8_t persist;		/* vale: made by VALE_NEWIF, stays without users */
	uint16_t mem;			/* region slot index */
	uint16_t pad2;
	char name[NETMAP_REQ_IFNAMSIZ];	/* base name, e.g. "foo{3" -> "foo", id 3 */
	uint32_t id;			/* pipe id */
	uint32_t users[2];		/* registered privs per end */
	uint16_t nrings[2][2];		/* [end][dir] */
	uint32_t nslots[2][2];		/* [end][dir] */
	uint32_t kring[2][2];		/* [end][dir] first kring index */
	/*
	 * hw: the process driving the NIC, 0 = none; vale: the attach daemon
	 * that forwards between this port and a NIC (VALE_ATTACH), 0 = none
	 */
	int32_t owner_pid;
	uint32_t hwflags;		/* hw: UNM_HW_*; vale: UNM_VALE_* */
	/*
	 * hw: host rings per direction, krings after the NIC's in the run
	 * kring[0][dir] (ring ids nrings .. nrings + nhost - 1), served by
	 * host.c in process host_pid (0 = not attached)
	 */
	uint16_t nhost[2];
	int32_t host_pid;
	/*
	 * hw, native mode (afxdp.c): the process whose AF_XDP socket serves
	 * queue q (0 = none; a dead one's queue is taken over), and the ids
	 * of the XDP program's bpf_link and XSKMAP, which every process
	 * driving the NIC shares (0 = none yet; a stale id is attached anew)
	 */
	int32_t xsk_pid[UNM_MAX_RINGS];
	uint32_t xdp_link_id, xdp_map_id;
};

enum unm_priv_state { UNM_PRIV_FREE = 0, UNM_PRIV_OPEN, UNM_PRIV_REG };

struct unm_kpriv {
	uint8_t state;			/* enum unm_priv_state */
	uint8_t end;			/* pipe end */
	uint16_t gen;			/* bumped at each allocation */
	int32_t owner_pid;		/* process holding evfd */
	int32_t evfd;			/* eventfd number in owner_pid */
	uint16_t port;
	uint16_t mem;
	uint16_t qfirst[2], qlast[2];	/* bound ring range per direction */
	uint32_t mode;
	uint64_t flags;			/* nr_flags */
	uint64_t nifp_ofs;		/* netmap_if offset in the region */
	uint32_t if_obj;
	uint32_t pad;
	/*
	 * The eventfd number of each process that took the fd with its own
	 * handle on the wake-up eventfd (open, adopt after SCM_RIGHTS), so
	 * that ownership moves to one of them when the owner goes; a forked
	 * child, absent here, has the owner's numbers.
	 */
	struct { int32_t pid, evfd; } share[UNM_PRIV_SHARE];
};

/*
 * VALE switches (lib/ports/vale.c). Limits are upstream's: NM_BRIDGES
 * switches, NM_BDG_MAXPORTS ports each, NM_BDG_MAXRINGS rings per direction,
 * NM_BDG_HASH entries in the MAC table.
 */
#define UNM_VALE_SWITCHES	8
#define UNM_VALE_PORTS		254
#define UNM_VALE_RINGS		16
#define UNM_VALE_HASH		1024
#define UNM_VALE_DEF_SLOTS	1024	/* NM_BRIDGE_RINGSIZE */

/*
 * One RX ring of a switch port, as a forwarding destination. The lock is a
 * robust, process-shared mutex: every sender that copies into the ring
 * holds it from reading hwtail to publishing it. It lives in the switch,
 * not in the kring, so that it outlives the port (a sender that looked the
 * port up just before it left still locks valid memory, then sees the gen
 * change and backs off); it is initialised once, with the switch.
 */
struct unm_vale_rxq {
	pthread_mutex_t lock;
	uint64_t frames;		/* (lock) frames copied into the ring */
	uint64_t drops;			/* (lock) frames dropped: no room, too long, bad slot */
} __attribute__((aligned(UNM_CACHELINE)));

struct unm_vale_port {
	uint16_t pidx;			/* (k, all rxq locks) port index + 1, 0 = free */
	uint16_t gen;			/* (k, all rxq locks) bumped when the port leaves */
	uint16_t txskip;		/* TX rings dropping the rest of a bad chain (bit/ring) */
	uint16_t pad;
	uint64_t tx_frames;		/* (atomic) complete frames taken from TX rings */
	uint64_t tx_drops;		/* (atomic) frames refused at TX: short, chain too long */
	struct unm_vale_rxq rxq[UNM_VALE_RINGS];
};

struct unm_vale_switch {
	char name[NETMAP_REQ_IFNAMSIZ];	/* (k) "vale0"; "" = free entry */
	uint32_t nports;		/* (k) */
	uint32_t pad;
	uint64_t active[(UNM_VALE_PORTS + 63) / 64];	/* (k) port slots in use */
	/* MAC -> port: mac << 16 | (slot gen & 0xff) << 8 | slot + 1; 0 = empty */
	uint64_t ht[UNM_VALE_HASH];
	struct unm_vale_port ports[UNM_VALE_PORTS];
};

/* unm_kport.hwflags of a VALE port served by an attach daemon */
#define UNM_VALE_ATT_NIC	0x1	/* the NIC's rings (vale-ctl -a, -h) */
#define UNM_VALE_ATT_HOST	0x2	/* the NIC's host rings ("valeS:IF^", vale-ctl -h) */

/*
 * Copy monitors (lib/ports/monitor.c). One entry per monitor RX ring: the
 * monitored krings that feed it (TX ring i and/or RX ring i of the
 * monitored port end), copied into by their syncers, in whatever process
 * syncs them, under the entry's robust lock (two syncers, TX and RX, may
 * feed one monitor ring at once). Entries are set up and torn down under
 * the control mutex; the lock is initialised at the entry's first use and
 * never again, so a syncer that looked an entry up just before it went
 * still locks valid memory, then sees src changed and backs off.
 */
#define UNM_MAX_MONS		64
#define UNM_MON_ORPHAN		0x100	/* kport.hwflags of a monitor: its port is gone */

struct unm_mon {
	pthread_mutex_t lock;
	uint32_t src[2];		/* (k, lock) monitored kring + 1 per dir, 0 = none */
	uint32_t mkr;			/* (k, lock) the monitor's RX kring + 1, 0 = free */
	uint16_t mport;			/* (k) the monitor port */
	uint8_t inited;			/* (k) lock initialised */
	uint8_t zcopy;			/* (k, lock) zero-copy monitor: buffers swapped */
	uint64_t frames;		/* (lock) slots copied into the monitor ring */
	uint64_t drops;			/* (lock) slots dropped: monitor ring full */
} __attribute__((aligned(UNM_CACHELINE)));

/* Counters of one VALE port (unm_vale_stats). */
struct unm_vale_stats {
	uint64_t tx_frames, tx_drops;	/* taken from its TX rings / refused there */
	uint64_t rx_frames, rx_drops;	/* copied into its RX rings / dropped there */
};

struct unm_kernel {
	uint64_t magic;
	uint32_t size;
	uint32_t dead;			/* being unlinked; attachers retry */
	pthread_mutex_t lock;
	uint32_t next_gen;
	uint32_t pad;
	struct unm_proc procs[UNM_MAX_PROCS];
	struct unm_memreg mems[UNM_MAX_MEMS];
	struct unm_kport ports[UNM_MAX_PORTS];
	struct unm_kpriv privs[UNM_MAX_PRIVS];
	struct unm_kring krings[UNM_MAX_KRINGS];
	struct unm_vale_switch vale[UNM_VALE_SWITCHES];
	struct unm_mon mon[UNM_MAX_MONS];
};

/* ---- per-process state -------------------------------------------------- */

struct unm_mem_local {
	uint16_t id;			/* 0 = not mapped */
	uint16_t gen;
	int fd;				/* shm fd, kept for the program's mmap(); -1 = extmem */
	char *base;			/* our own mapping (extmem: the program's memory) */
	uint64_t size;
	int refs;
};

struct unm_ring_ctx;
typedef int (*unm_sync_fn)(struct unm_ring_ctx *rc);

/* What one sync needs, resolved once at register time. */
struct unm_ring_ctx {
	struct unm_kring *kr;
	struct netmap_ring *ring;	/* in our mapping */
	struct unm_kring *peer_kr;
	struct netmap_ring *peer_ring;
	unm_sync_fn sync;
	char *bufs;			/* buffer pool base in our mapping */
	uint32_t nbufs, buf_size;
	uint32_t slot;			/* kernel priv slot (for waiter marks) */
	uint16_t mem;			/* region slot (for repairs) */
	const char *name;		/* for messages */
};

struct unm_priv_local {
	int refs;			/* fds of this process pointing here */
	uint32_t slot;			/* index in unm_kernel.privs */
	uint16_t gen;
	int epfd, evfd;
	bool registered;
	bool txpoll;			/* txsync on poll (not NR_NO_TX_POLL) */
	bool hw_nap;			/* TX space is not signalled: poll naps */
	bool no_spin;			/* rings fed by the kernel: poll never spins */
	int watch_fd;			/* the one socket it watches (nwatch == 1) */
	unsigned nwatch;		/* sockets added to epfd by the port's bind */
	struct unm_mem_local *mem;
	unsigned nring[2];
	struct unm_ring_ctx *rings[2];	/* [UNM_TX], [UNM_RX] */
	char name[NETMAP_REQ_IFNAMSIZ + 16];
};

/* ---- port operations (the adapter registry) ----------------------------- */

struct nmreq_header;
struct nmreq_register;

/* What a register request resolves to, before any state is created. */
struct unm_portspec {
	enum unm_port_kind kind;
	char base[NETMAP_REQ_IFNAMSIZ];
	uint32_t id;
	uint8_t end;			/* pipe: 0 master, 1 slave */
};

struct unm_port_ops {
	const char *name;
	enum unm_port_kind kind;
	/* does this name belong to the port type? fill spec; 0, -ENOENT, -errno */
	int (*parse)(const char *name, uint32_t mode, uint32_t ringid,
		     struct unm_portspec *spec);
	unm_sync_fn txsync;
	unm_sync_fn rxsync;
	/*
	 * Optional, for ports whose geometry comes from outside (NICs): ring
	 * counts and slots of the port spec names (req may be NULL); one end.
	 */
	int (*geometry)(const struct unm_portspec *spec, const struct nmreq_register *req,
			uint16_t nrings[2], uint32_t nslots[2]);
	/*
	 * Optional: port pidx was just created (locked), its krings exist;
	 * an error destroys it again (destroy is called).
	 */
	int (*create)(uint16_t pidx);
	/* per-process set-up at each register (locked): 0 if done already */
	int (*attach)(uint16_t pidx);
	/* an fd of this process is bound to port pidx: wake-up sources etc. */
	int (*bind)(struct unm_priv_local *pl, uint16_t pidx);
	/* the port is destroyed (locked); base is the caller's mapping or NULL */
	void (*destroy)(uint16_t pidx, char *base);
	/*
	 * Optional: a registration on port pidx went away, the port stays
	 * (locked): drop the per-process state (sockets) no fd of this
	 * process binds any more.
	 */
	void (*release)(uint16_t pidx);
};

/* ---- vale.c -------------------------------------------------------------- */
/* the counters of VALE port `name` ("vale0:a"): 0, or -ENOENT */
int unm_vale_stats(const char *name, struct unm_vale_stats *st);
/*
 * NIOCCTRL VALE requests (names without "netmap:"); 0 or -errno, logged.
 * VALE_LIST: name in/out (NETMAP_REQ_IFNAMSIZ bytes).
 */
int unm_vale_list(char *name, struct nmreq_vale_list *req);
int unm_vale_attach(const char *name, struct nmreq_vale_attach *req);
int unm_vale_detach(const char *name, struct nmreq_vale_detach *req);
int unm_vale_polling(const char *name, bool enable);
/* a persistent port's name (VALE_NEWIF): letters, digits, '_'; 0 or -EINVAL */
int unm_vale_newif_name_check(const char *name);
/*
 * The persistent port that `name` ("vi0", or "valeS:vi0" while attached to
 * switch S) opens, with its spec filled in; -ENOENT if none. Locked.
 */
int unm_vale_persist_find_locked(const char *name, struct unm_portspec *spec);

/* ---- monitor.c ----------------------------------------------------------- */
/*
 * REGISTER with NR_MONITOR_TX/RX (locked): find the port spec names (the
 * monitored one) and turn spec into a new monitor port of it; nr_mem_id
 * becomes the monitored port's region. 0 or -errno (logged).
 */
int unm_monitor_prepare_locked(const char *name, struct nmreq_register *req,
			       struct unm_portspec *spec);
/* monitor port pidx binds RX rings [first, last): tap the monitored rings (locked) */
int unm_monitor_attach_locked(uint16_t pidx, unsigned first, unsigned last);
/* port pidx goes: its monitors get nothing more (locked) */
void unm_monitor_parent_gone_locked(uint16_t pidx);
/* copy slots [from, to) of the monitored ring rc into its monitors (kr->nmon != 0) */
void unm_monitor_copy(struct unm_ring_ctx *rc, int dir, uint32_t from, uint32_t to);
/* hand the buffers of slots [from, to), which the port is done with, to a zero-copy monitor */
void unm_monitor_zswap(struct unm_ring_ctx *rc, int dir, uint32_t from, uint32_t to);
/* counters of monitor port pidx: 0, or -ENOENT */
int unm_monitor_stats(uint16_t pidx, uint64_t *frames, uint64_t *drops);

/* ---- log.c -------------------------------------------------------------- */
enum unm_log_level { UNM_LOG_ERR = 0, UNM_LOG_WARN = 1, UNM_LOG_INFO = 2, UNM_LOG_DEBUG = 3 };
enum unm_err_kind {
	UNM_ERR_HEAD, UNM_ERR_CUR, UNM_ERR_TAIL, UNM_ERR_BUF_IDX, UNM_ERR_LEN,
	UNM_ERR_PEER_BUF, UNM_ERR_BUSY, UNM_ERR_MAX
};
typedef void (*unm_log_fn)(int level, const char *msg);
extern int unm_verbose;
void unm_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* rate limited (per kind), and counted */
void unm_log_err(enum unm_err_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
uint64_t unm_err_count(enum unm_err_kind kind);
unm_log_fn unm_log_set(unm_log_fn fn);

/* ---- kernel.c ----------------------------------------------------------- */
extern struct unm_kernel *unm_k;
extern pid_t unm_pid;			/* getpid(), cached: no syscall on the data path */
int unm_kernel_attach(void);
const char *unm_kernel_shm_name(void);
const char *unm_shm_prefix(void);
int unm_lock(void);
void unm_unlock(void);
int unm_proc_self(void);		/* our slot in procs[] (locked) */
int unm_proc_start_time(pid_t pid, uint64_t *start, bool *zombie);
void unm_kernel_after_fork_child(void);
/*
 * The netmap fd's open file description carries an OFD read lock on a byte
 * range naming (world, priv slot, gen): the kernel drops it when the last
 * reference to the description goes (close, exit, an SCM_RIGHTS message
 * never received), so it tells whether the fd still exists anywhere.
 */
int unm_priv_lock_take(int epfd, uint32_t slot, uint16_t gen);
bool unm_priv_file_alive(uint32_t slot, uint16_t gen);
/* decode a lock range start seen in /proc/self/fdinfo; 0 if not ours */
int unm_priv_lock_decode(uint64_t start, uint32_t *slot, uint16_t *gen);

/* ---- reaper.c ----------------------------------------------------------- */
int unm_reaper_start(void);
extern bool unm_reaper_forking;	/* fork() below is the reaper's: skip atfork */
/* garbage collection (locked): drop what dead processes held */
void unm_gc_locked(void);
/* release one priv slot's registration (locked) */
void unm_priv_release_locked(uint32_t slot);
/* may priv slot go: held by no process (but except) and its fd gone (locked) */
bool unm_priv_orphan_locked(uint32_t slot, int except);
/* the owner (pid of the wake-up eventfd) is leaving: pick another holder */
void unm_priv_owner_move_locked(uint32_t slot, int32_t leaving);

/* ---- mem.c -------------------------------------------------------------- */
int unm_mem_find_or_create(uint16_t id, const struct unm_pools *want, int *slotp);
void unm_mem_put_locked(int slot);
void unm_pools_default(struct unm_pools *p);
int unm_pools_check(struct unm_pools *p);
void unm_mem_layout(struct unm_memreg *m);
int unm_mem_buf_alloc_locked(struct unm_memreg *m, uint32_t *idx);
void unm_mem_buf_free_locked(struct unm_memreg *m, uint32_t idx);
int unm_mem_obj_alloc(uint64_t *map, uint32_t total, uint32_t n, uint32_t *hint,
		      uint32_t *first);
void unm_mem_obj_free(uint64_t *map, uint32_t first, uint32_t n);
int unm_mem_ring_create_locked(int mslot, char *base, struct unm_kring *kr,
			       uint16_t ring_id, uint8_t dir);
void unm_mem_ring_delete_locked(int mslot, char *base, struct unm_kring *kr);
uint32_t unm_mem_extra_alloc_locked(int mslot, char *base, uint32_t *head, uint32_t n);
void unm_mem_extra_free_locked(int mslot, char *base, uint32_t head);
struct unm_mem_local *unm_mem_map(int mslot);
void unm_mem_unmap(struct unm_mem_local *ml);
void unm_mem_name(char *buf, size_t len, uint16_t id);
/* extmem: find (same process, address, size) or create the region; pi in/out */
int unm_mem_ext_get_locked(uint64_t addr, struct nmreq_pools_info *pi, int *slotp,
			   bool *created);
/* drop a region that no port ended up using (a failed register) */
void unm_mem_drop_unused_locked(int slot);
/* 0, or -EINVAL (logged) if this process cannot map region mslot (extmem) */
int unm_mem_access_check(int mslot, const char *who);

/* ---- kring.c ------------------------------------------------------------ */
uint32_t unm_txsync_prologue(struct unm_ring_ctx *rc);
uint32_t unm_rxsync_prologue(struct unm_ring_ctx *rc);
void unm_sync_finalize(struct unm_ring_ctx *rc);
int unm_ring_reinit(struct unm_ring_ctx *rc);
/* buf_idx in the pool (0 and 1 are reserved) and len within the buffer */
static inline bool unm_slot_ok(const struct unm_ring_ctx *rc, const struct netmap_slot *s)
{
	return s->buf_idx - 2 < rc->nbufs - 2 && s->len <= rc->buf_size;
}
int unm_slot_repair(struct unm_ring_ctx *rc, struct netmap_slot *s);
/* released RX slots [hwcur, head): bad buf_idx repaired, hwcur published; 0 or -EINVAL */
int unm_rx_release(struct unm_ring_ctx *rc);

/* released RX slots [hwcur, head): bad buf_idx repaired; 0 or -EINVAL */
int unm_rx_released_check(struct unm_ring_ctx *rc, uint32_t head);
/* robust, process-shared mutexes: init, and lock (EOWNERDEAD made consistent) */
void unm_mutex_init_robust(pthread_mutex_t *m);
int unm_mutex_lock_robust(pthread_mutex_t *m);
int unm_kring_tryget(struct unm_kring *kr);
void unm_kring_put(struct unm_kring *kr);
void unm_kring_wake(struct unm_kring *kr);
int unm_kring_wait_mark(struct unm_kring *kr, uint32_t slot);
void unm_kring_wait_unmark(struct unm_kring *kr, uint32_t slot);

static inline uint32_t unm_ring_next(uint32_t i, uint32_t n)
{
	return unlikely(++i == n) ? 0 : i;
}

/* PREFETCHW available: -1 not probed yet (unm_cpu_probe()), 0 no, 1 yes */
extern int unm_cpu_prefetchw;
void unm_cpu_probe(void);

/*
 * Ask for the line at p with intent to write (the line is in another CPU's
 * cache: fetch it exclusive now, not at the store). A hint: never faults.
 * The compiler's __builtin_prefetch(p, 1) is a plain read prefetch unless
 * the whole build targets PREFETCHW, hence the probe.
 */
static inline void unm_prefetch_w(const void *p)
{
#if defined(__x86_64__) || defined(__i386__)
	if (likely(unm_cpu_prefetchw > 0)) {
		__asm__ __volatile__("prefetchw %0" : : "m"(*(const char *)p));
		return;
	}
#endif
	__builtin_prefetch(p, 1);
}

/* ---- registry.c --------------------------------------------------------- */
void unm_port_ops_register(const struct unm_port_ops *ops);
const struct unm_port_ops *unm_port_ops_find(enum unm_port_kind kind);
const struct unm_port_ops *unm_port_ops_parse(const char *name, uint32_t mode,
					      uint32_t ringid, struct unm_portspec *spec,
					      int *err);
/* the adapter of a NIC port's host rings (host.c) */
const struct unm_port_ops *unm_port_host_ops(void);
/* the adapter that serves a port now (a NIC: native or emulated) */
const struct unm_port_ops *unm_port_ops_of(const struct unm_kport *port);
/*
 * The adapter's per-process attach (locked). For a NIC, netmap's admode
 * (nr_flags NR_UNM_ADMODE_*, else UNM_ADMODE) picks AF_XDP or AF_PACKET;
 * *opsp becomes the adapter that serves the port.
 */
int unm_port_attach(const struct unm_port_ops **opsp, uint16_t pidx, uint64_t nr_flags);
/* fd table */
struct unm_priv_local *unm_fd_get(int fd);
void unm_fd_set(int fd, struct unm_priv_local *pl);
struct unm_priv_local *unm_fd_clear(int fd);
int unm_fd_table_init(void);

/* ---- ctl.c -------------------------------------------------------------- */
/* epoll data of a netmap fd's members: how a received fd finds its priv */
static inline uint64_t unm_epoll_data(uint16_t gen, uint32_t slot)
{
	return ((uint64_t)UNM_EPOLL_MAGIC << 32) | ((uint64_t)gen << 16) | slot;
}
/* a port's socket wakes poll() on the netmap fd pl (EEXIST is fine): 0/-errno */
int unm_priv_watch(struct unm_priv_local *pl, int fd);
int unm_open(int flags, struct unm_priv_local **plp);
void unm_close(struct unm_priv_local *pl);
int unm_ctrl(struct unm_priv_local *pl, struct nmreq_header *hdr);
struct unm_priv_local *unm_fd_adopt(int fd);
int unm_opt_walk(struct nmreq_header *hdr, struct nmreq_option **tab, size_t ntab);
int unm_hdr_check(const struct nmreq_header *hdr);
int unm_register(struct unm_priv_local *pl, struct nmreq_header *hdr,
		 struct nmreq_register *req, const struct unm_pools *pools);
void *unm_mmap(struct unm_priv_local *pl, void *addr, size_t len, int prot,
	       int flags, off_t off, int *err);

/* ---- legacy.c ----------------------------------------------------------- */
int unm_legacy_ioctl(struct unm_priv_local *pl, unsigned long cmd, void *arg);

/* ---- sync.c ------------------------------------------------------------- */
int unm_sync(struct unm_priv_local *pl, int dir);
/* NIC fd (hw_nap): a TX ring has frames not yet completed */
bool unm_hw_tx_inflight(const struct unm_priv_local *pl);
/* one poll-style pass: returns revents for the netmap fd */
short unm_poll_scan(struct unm_priv_local *pl, short events);

/* ---- poll.c ------------------------------------------------------------- */
struct pollfd;
int unm_poll(struct pollfd *fds, unsigned long nfds, const struct timespec *ts,
	     const void *sigmask, bool has_timeout);
void unm_priv_drain(struct unm_priv_local *pl);
int unm_wake_priv(uint32_t slot);

/* copy from/to program memory without crashing on a bad pointer */
int unm_copyin(void *dst, uint64_t uaddr, size_t len);
int unm_copyout(uint64_t uaddr, const void *src, size_t len);

/* ---- interpose.c: the next definitions (libc, or ASan's) ---------------- */
struct unm_libc {
	int (*open)(const char *, int, ...);
	int (*close)(int);
	int (*ioctl)(int, unsigned long, ...);
	void *(*mmap)(void *, size_t, int, int, int, off_t);
	int (*poll)(struct pollfd *, unsigned long, int);
	int (*ppoll)(struct pollfd *, unsigned long, const struct timespec *, const void *);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*fcntl)(int, int, ...);
};
extern struct unm_libc unm_libc;
void unm_libc_init(void);

#endif /* UNM_CORE_UNM_H */
