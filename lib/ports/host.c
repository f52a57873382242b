// SPDX-License-Identifier: BSD-2-Clause
/*
 * host.c - the host rings of a NIC port (`IF^`, `IF^N`, `IF*`): TX and RX
 * rings between the program and the host's own network stack (one each by
 * default; up to UNM_MAX_HOST_RINGS, host RX spread by flow hash).
 *
 *   host RX ring  <- what the stack transmits on IF (instead of the wire)
 *   host TX ring  -> delivered to the stack as if received on IF
 *
 * Wiring (all created at the first register of host rings by a process):
 *
 *        IF's namespace                          | private namespace (ours)
 *                                                 |
 *   stack --tx--> IF --tcx egress----------+      |
 *                 ^   unm_host_capture     |      |
 *                 |   bpf_redirect()       v      |
 *                 |                unmh<ifindex> ===veth=== h  <-- packet socket
 *                 |  clsact ingress:       |      |        (host RX: recvmmsg,
 *                 +--cls_bpf unm_host_inject      |         host TX: sendmmsg)
 *                    (marks) + act_mirred  |      |
 *                    to IF's ingress ------+      |
 *
 * The helper pair has one end in a network namespace of our own, made with
 * unshare() on the calling thread (which goes straight back) and held only
 * by fds of this process (the namespace fd and the packet socket). When the
 * process exits or is killed those fds close, the namespace dies, and the
 * kernel deletes the veth pair with it, its clsact qdisc and filter too: no
 * reaper is needed, and the tcx programs on IF are bpf_links, which go with
 * the process.
 *
 * Host TX frames enter IF's receive path through act_mirred, not
 * bpf_redirect(): the kernel then knows them as redirected, and generic XDP
 * on IF (AF_XDP over a driver without native XDP) lets them pass instead of
 * taking them back into the NIC RX ring; native XDP never sees them (they
 * enter after the driver). They carry skb->mark UNM_HOST_MARK up to IF's
 * tcx ingress, for emulated mode (afpacket.c): its RX packet sockets, which
 * run first, filter them out, and its drop keeping the stack off IF lets
 * them through. unm_host_unmark, last on IF's tcx ingress, clears the mark,
 * so the stack sees the frame as received.
 *
 * Offloads. Frames reach the tcx egress hook before segmentation and
 * checksumming (GSO super-frames, CHECKSUM_PARTIAL). The redirect transmits
 * them on the helper end, whose TSO/GSO/SG/TX checksum offloads we switch
 * off: the kernel's validate_xmit_skb() then segments and checksums them as
 * for any device without those features, so the host RX ring gets wire
 * frames, whatever IF's settings. IF's own settings are never touched, so
 * there is nothing to restore after a crash. A VLAN tag the kernel keeps in
 * skb metadata reaches the packet socket in PACKET_AUXDATA, and rxsync puts
 * it back into the frame.
 *
 * Frames over several slots. Host TX: an NS_MOREFRAG chain is one frame
 * (one sendmmsg message, an iovec entry per slot). Host RX: a frame longer
 * than a buffer (IF's MTU over the buffer size) is dropped and counted, not
 * split. Drops (over the MTU, runts, refused, over a buffer) are counted and
 * logged at close (UNM_VERBOSE=2).
 *
 * Host TX frames are copied (sendmmsg) into the helper; IPv6 is disabled on
 * both helper ends, and neither has an address, so the helper pair carries
 * nothing but our frames.
 *
 * Scope: one process owns a NIC's host rings (kport.host_pid); another gets
 * EBUSY naming the interface. The state is per process (host_ports[]).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/tc_act/tc_mirred.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <linux/veth.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "core/unm.h"
#include "host_redirect.skel.h"

/* tcx hooks (kernel 6.6), missing from older uapi headers' enum */
#define HOST_TCX_INGRESS	((enum bpf_attach_type)46)
#define HOST_TCX_EGRESS		((enum bpf_attach_type)47)
#define HOST_F_AFTER		(1u << 4)	/* BPF_F_AFTER: last in the tcx chain */
#define HOST_BATCH		64
#define HOST_TX_IOV		256	/* slots per sendmmsg() batch */
#define HOST_PEER_NAME		"h"

struct host_port {
	uint16_t pidx;
	char ifname[IF_NAMESIZE];
	char helper[IF_NAMESIZE];		/* our end in IF's namespace */
	int ifindex, helper_ifindex;
	uint32_t mtu;
	int ns_fd;				/* the private namespace */
	/*
	 * packet sockets on the peer end, one per host RX ring (a fanout
	 * group by flow hash when there are several); host TX ring i sends
	 * on sock[i % nsock]
	 */
	int sock[UNM_MAX_HOST_RINGS];
	uint16_t nsock;
	uint16_t nic_rings[2];			/* host ring i is ring nic_rings[dir] + i */
	struct unm_host_redirect *skel;
	int capture_link, unmark_link;
	uint64_t rx_trunc, tx_long, tx_short, tx_err;
};

static struct host_port *host_ports[UNM_MAX_PORTS];

/* ---- the data path ---------------------------------------------------------- */

static inline struct host_port *host_port(const struct unm_ring_ctx *rc)
{
	struct host_port *p = host_ports[rc->kr->port];

	if (likely(p))
		return p;
	unm_log_err(UNM_ERR_BUSY, "%s host ring: synced only by the process that opened the host rings (pid %d)",
		    rc->name, unm_k->ports[rc->kr->port].host_pid);
	return NULL;
}

/* The packet socket behind a host ring. */
static inline int host_sock(const struct host_port *p, const struct unm_ring_ctx *rc)
{
	return p->sock[(rc->kr->ring_id - p->nic_rings[rc->kr->dir]) % p->nsock];
}

static inline char *slot_buf(const struct unm_ring_ctx *rc, const struct netmap_slot *s)
{
	return rc->bufs + (size_t)s->buf_idx * rc->buf_size;
}

static inline bool frame_tagged(const char *buf)
{
	uint16_t type;

	memcpy(&type, buf + 2 * ETH_ALEN, sizeof(type));
	return type == htons(ETH_P_8021Q) || type == htons(ETH_P_8021AD);
}

/*
 * Frames written to the host TX ring go to the stack, copied: one sendmmsg()
 * message per frame, an NS_MOREFRAG chain being one message with an iovec
 * per slot. A chain whose last slot is not released yet waits for the next
 * sync. Frames over the MTU (+ header and a VLAN tag), runts and frames the
 * device refuses are dropped and counted (logged at close).
 */
static int host_txsync(struct unm_ring_ctx *rc)
{
	struct host_port *p = host_port(rc);
	struct unm_kring *kr = rc->kr;
	struct netmap_slot *slot = rc->ring->slot;
	uint32_t n = kr->num_slots, head = kr->rhead, j = kr->hwcur;
	uint32_t idx[HOST_BATCH];
	struct mmsghdr msg[HOST_BATCH];
	struct iovec iov[HOST_TX_IOV];
	bool partial = false;
	int err = 0;

	if (unlikely(!p))
		return -ENXIO;
	while (j != head && !partial) {
		unsigned cnt = 0, nio = 0, k;
		int sent;

		while (j != head && cnt < HOST_BATCH) {
			uint32_t first = j, len = 0, nfrag = 0, maxlen;
			bool whole = false, bad = false;

			/* one frame: slots first .. j, the last without NS_MOREFRAG */
			for (;;) {
				struct netmap_slot *s = &slot[j];

				if (unlikely(!unm_slot_ok(rc, s))) {
					unm_log_err(UNM_ERR_BUF_IDX, "%s host TX: slot %u: buf_idx %u / len %u invalid, frame dropped",
						    rc->name, j, s->buf_idx, s->len);
					unm_slot_repair(rc, s);
					err = -EINVAL;
					bad = true;
				}
				len += s->len;
				nfrag++;
				j = unm_ring_next(j, n);
				if (!(s->flags & NS_MOREFRAG)) {
					whole = true;
					break;
				}
				if (j == head)
					break;
			}
			if (!whole) {
				/* the rest of the chain is not released yet */
				j = first;
				partial = true;
				break;
			}
			if (unlikely(bad))
				continue;
			/* the MTU, the header and a VLAN tag if there is one */
			maxlen = p->mtu + ETH_HLEN;
			if (slot[first].len >= ETH_HLEN && frame_tagged(slot_buf(rc, &slot[first])))
				maxlen += 4;
			if (unlikely(len > maxlen)) {
				p->tx_long++;
				unm_log_err(UNM_ERR_LEN, "%s host TX: slot %u: %u-byte frame longer than the MTU (%u + header), dropped",
					    rc->name, first, len, p->mtu);
				continue;
			}
			if (unlikely(len < ETH_HLEN)) {
				p->tx_short++;
				continue;
			}
			if (nio + nfrag > HOST_TX_IOV) {
				if (unlikely(!cnt)) {
					p->tx_long++;
					unm_log_err(UNM_ERR_LEN, "%s host TX: slot %u: frame of %u slots (max %u), dropped",
						    rc->name, first, nfrag, HOST_TX_IOV);
					continue;
				}
				j = first;	/* in the next batch */
				break;
			}
			memset(&msg[cnt], 0, sizeof(msg[cnt]));
			msg[cnt].msg_hdr.msg_iov = &iov[nio];
			for (k = first; k != j; k = unm_ring_next(k, n)) {
				if (!slot[k].len)
					continue;
				iov[nio].iov_base = slot_buf(rc, &slot[k]);
				iov[nio++].iov_len = slot[k].len;
				msg[cnt].msg_hdr.msg_iovlen++;
			}
			idx[cnt++] = first;
		}
		k = 0;
		while (k < cnt) {
			sent = sendmmsg(host_sock(p, rc), msg + k, cnt - k, MSG_DONTWAIT);
			if (sent > 0) {
				k += sent;
				continue;
			}
			if (sent < 0 && errno == EINTR)
				continue;
			if (sent < 0 && (errno == EAGAIN || errno == ENOBUFS)) {
				/* the next sync retries from the first unsent frame */
				j = idx[k];
				goto out;
			}
			/* a frame the device refuses: drop it, go on */
			p->tx_err++;
			unm_log_err(UNM_ERR_LEN, "%s host TX: slot %u: %s, frame dropped",
				    rc->name, idx[k], strerror(errno));
			k++;
		}
	}
out:
	kr->hwcur = j;
	/* copies: every slot handed over is free again at once */
	__atomic_store_n(&kr->hwtail, j ? j - 1 : n - 1, __ATOMIC_RELEASE);
	return err;
}

/*
 * A VLAN tag the kernel keeps in skb metadata (PACKET_AUXDATA) goes back
 * into the frame after the addresses, as it was on the wire. Returns the
 * new length, 0 if the tag does not fit in the buffer.
 */
static uint32_t rx_vlan_put(const struct unm_ring_ctx *rc, char *buf, uint32_t len,
			    const struct msghdr *mh)
{
	const struct tpacket_auxdata *aux = NULL;
	struct cmsghdr *c;
	uint16_t tag[2];

	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR((struct msghdr *)mh, c))
		if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA &&
		    c->cmsg_len >= CMSG_LEN(sizeof(*aux)))
			aux = (const void *)CMSG_DATA(c);
	if (!aux || !(aux->tp_status & TP_STATUS_VLAN_VALID))
		return len;
	if (len + 4 > rc->buf_size || len < 2 * ETH_ALEN)
		return 0;
	tag[0] = htons((aux->tp_status & TP_STATUS_VLAN_TPID_VALID) && aux->tp_vlan_tpid ?
		       aux->tp_vlan_tpid : ETH_P_8021Q);
	tag[1] = htons(aux->tp_vlan_tci);
	memmove(buf + 2 * ETH_ALEN + 4, buf + 2 * ETH_ALEN, len - 2 * ETH_ALEN);
	memcpy(buf + 2 * ETH_ALEN, tag, 4);
	return len + 4;
}

/*
 * What the stack transmitted on IF, into the slots the kernel owns. A frame
 * longer than a buffer (IF's MTU over the buffer size) is dropped and
 * counted, not split: the helper has no scatter-gather to receive into.
 */
static int host_rxsync(struct unm_ring_ctx *rc)
{
	struct host_port *p = host_port(rc);
	struct unm_kring *kr = rc->kr;
	struct netmap_slot *slot = rc->ring->slot;
	uint32_t n = kr->num_slots, head = kr->rhead, j, tail, room;
	struct mmsghdr msg[HOST_BATCH];
	struct iovec iov[HOST_BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
		struct cmsghdr align;
	} cm[HOST_BATCH];
	int err = 0, got, i;
	bool moved = false;

	if (unlikely(!p))
		return -ENXIO;
	/* released slots: their buffers are written into later, check them now */
	for (j = kr->hwcur; j != head; j = unm_ring_next(j, n)) {
		if (unlikely(slot[j].buf_idx < 2 || slot[j].buf_idx >= rc->nbufs)) {
			unm_log_err(UNM_ERR_BUF_IDX, "%s host RX: released slot %u: buf_idx %u invalid (buffers 2..%u), repaired",
				    rc->name, j, slot[j].buf_idx, rc->nbufs - 1);
			unm_slot_repair(rc, &slot[j]);
			err = -EINVAL;
		}
	}
	kr->hwcur = head;
	/* the kernel's slots are [hwtail, hwcur - 1): one stays empty */
	tail = kr->hwtail;
	room = head > tail ? head - tail - 1 : head + n - tail - 1;
	while (room) {
		unsigned cnt = room < HOST_BATCH ? room : HOST_BATCH, k;

		for (k = 0, j = tail; k < cnt; k++, j = unm_ring_next(j, n)) {
			iov[k].iov_base = slot_buf(rc, &slot[j]);
			iov[k].iov_len = rc->buf_size;
			memset(&msg[k], 0, sizeof(msg[k]));
			msg[k].msg_hdr.msg_iov = &iov[k];
			msg[k].msg_hdr.msg_iovlen = 1;
			msg[k].msg_hdr.msg_control = cm[k].buf;
			msg[k].msg_hdr.msg_controllen = sizeof(cm[k].buf);
		}
		got = recvmmsg(host_sock(p, rc), msg, cnt, MSG_DONTWAIT | MSG_TRUNC, NULL);
		if (got <= 0)
			break;
		/*
		 * Frame i was received into the buffer of slot tail + i; a
		 * dropped one leaves its slot, and the next frames move down.
		 */
		for (i = 0, j = tail, k = tail; i < got; i++, k = unm_ring_next(k, n)) {
			struct netmap_slot *s = &slot[j];
			uint32_t len = msg[i].msg_len;

			if (unlikely(msg[i].msg_hdr.msg_flags & MSG_TRUNC || len > rc->buf_size)) {
				p->rx_trunc++;
				continue;
			}
			len = rx_vlan_put(rc, slot_buf(rc, &slot[k]), len, &msg[i].msg_hdr);
			if (unlikely(!len)) {
				p->rx_trunc++;
				continue;
			}
			if (unlikely(j != k)) {
				uint32_t b = s->buf_idx;

				s->buf_idx = slot[k].buf_idx;
				slot[k].buf_idx = b;
				s->flags |= NS_BUF_CHANGED;
				slot[k].flags |= NS_BUF_CHANGED;
			}
			s->len = len;
			s->flags &= NS_BUF_CHANGED;
			j = unm_ring_next(j, n);
			room--;
			moved = true;
		}
		tail = j;
		if ((unsigned)got < cnt)
			break;
	}
	if (moved) {
		/* Synchronizes with the acquire in unm_sync_finalize(). */
		__atomic_store_n(&kr->hwtail, tail, __ATOMIC_RELEASE);
	}
	return err;
}

/* ---- set-up and teardown (control path, under the control mutex) ---------- */

static int sysctl_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		err = -errno;
	close(fd);
	return err;
}

/* No IPv6 on a helper end: no link-local address, no RS/DAD/MLD frames. */
static int ipv6_off(const char *ifname)
{
	char path[96];
	int err;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	err = sysctl_write(path, "1");
	return err == -ENOENT ? 0 : err;	/* no IPv6 in this kernel */
}

static int if_ioctl(int fd, unsigned long req, const char *ifname, struct ifreq *ifr)
{
	memset(ifr->ifr_name, 0, sizeof(ifr->ifr_name));
	memcpy(ifr->ifr_name, ifname, strnlen(ifname, IF_NAMESIZE - 1));
	return ioctl(fd, req, ifr) < 0 ? -errno : 0;
}

static int if_up(int fd, const char *ifname)
{
	struct ifreq ifr;
	int err = if_ioctl(fd, SIOCGIFFLAGS, ifname, &ifr);

	if (err)
		return err;
	ifr.ifr_flags |= IFF_UP;
	return if_ioctl(fd, SIOCSIFFLAGS, ifname, &ifr);
}

/* TSO/GSO/SG/TX checksum off: the kernel segments and checksums for us. */
static int offloads_off(int fd, const char *ifname)
{
	static const uint32_t cmds[] = { ETHTOOL_STSO, ETHTOOL_SGSO, ETHTOOL_SSG,
					 ETHTOOL_STXCSUM };
	struct ethtool_value ev;
	struct ifreq ifr;
	unsigned i;
	int err;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		ev.cmd = cmds[i];
		ev.data = 0;
		ifr.ifr_data = (void *)&ev;
		err = if_ioctl(fd, SIOCETHTOOL, ifname, &ifr);
		if (err && err != -EOPNOTSUPP)
			return err;
	}
	return 0;
}

struct nlbuf {
	struct nlmsghdr h;
	char data[1024];
};

static struct rtattr *nl_put(struct nlmsghdr *h, unsigned short type, const void *v, size_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));

	a->rta_type = type;
	a->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), v, len);
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
	return a;
}

static void nl_end(struct nlmsghdr *h, struct rtattr *nest)
{
	nest->rta_len = (char *)h + h->nlmsg_len - (char *)nest;
}

/* Send one request on a fresh rtnetlink socket (of the caller's namespace). */
static int nl_talk(struct nlmsghdr *h)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct { struct nlmsghdr h; struct nlmsgerr e; char more[256]; } ans;
	int fd, err;
	ssize_t r;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	h->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	h->nlmsg_seq = 1;
	if (sendto(fd, h, h->nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		goto out;
	}
	r = recv(fd, &ans, sizeof(ans), 0);
	if (r < 0)
		err = -errno;
	else if ((size_t)r < sizeof(ans.h) + sizeof(ans.e) || ans.h.nlmsg_type != NLMSG_ERROR)
		err = -EPROTO;
	else
		err = ans.e.error;
out:
	close(fd);
	return err;
}

/*
 * Called inside the private namespace: the veth pair "h" (here) and
 * p->helper (in IF's namespace, orig_fd), the helper with IF's address.
 */
static int veth_create(const struct host_port *p, int orig_fd, const uint8_t mac[ETH_ALEN])
{
	struct nlbuf b;
	struct ifinfomsg *ifi, *peer_ifi;
	struct rtattr *linkinfo, *data, *peer;
	uint32_t mtu = p->mtu, fd32 = orig_fd;

	memset(&b, 0, sizeof(b));
	b.h.nlmsg_len = NLMSG_LENGTH(sizeof(*ifi));
	b.h.nlmsg_type = RTM_NEWLINK;
	b.h.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	ifi = NLMSG_DATA(&b.h);
	ifi->ifi_family = AF_UNSPEC;
	nl_put(&b.h, IFLA_IFNAME, HOST_PEER_NAME, sizeof(HOST_PEER_NAME));
	nl_put(&b.h, IFLA_MTU, &mtu, sizeof(mtu));
	linkinfo = nl_put(&b.h, IFLA_LINKINFO, NULL, 0);
	nl_put(&b.h, IFLA_INFO_KIND, "veth", 5);
	data = nl_put(&b.h, IFLA_INFO_DATA, NULL, 0);
	peer = nl_put(&b.h, VETH_INFO_PEER, NULL, 0);
	peer_ifi = (struct ifinfomsg *)RTA_DATA(peer);
	memset(peer_ifi, 0, sizeof(*peer_ifi));
	b.h.nlmsg_len += NLMSG_ALIGN(sizeof(*peer_ifi));
	nl_put(&b.h, IFLA_IFNAME, p->helper, strlen(p->helper) + 1);
	nl_put(&b.h, IFLA_MTU, &mtu, sizeof(mtu));
	nl_put(&b.h, IFLA_ADDRESS, mac, ETH_ALEN);
	nl_put(&b.h, IFLA_NET_NS_FD, &fd32, sizeof(fd32));
	nl_end(&b.h, peer);
	nl_end(&b.h, data);
	nl_end(&b.h, linkinfo);
	return nl_talk(&b.h);
}

/* A new (exclusive) TC object on ifindex under parent: the message head. */
static struct tcmsg *tc_msg_init(struct nlbuf *b, uint16_t type, int ifindex, uint32_t parent)
{
	struct tcmsg *tc;

	memset(b, 0, sizeof(*b));
	b->h.nlmsg_len = NLMSG_LENGTH(sizeof(*tc));
	b->h.nlmsg_type = type;
	b->h.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	tc = NLMSG_DATA(&b->h);
	tc->tcm_family = AF_UNSPEC;
	tc->tcm_ifindex = ifindex;
	tc->tcm_parent = parent;
	return tc;
}

/* A clsact qdisc on the helper: the hook of its ingress filter below. */
static int tc_clsact_add(int ifindex)
{
	struct nlbuf b;
	struct tcmsg *tc = tc_msg_init(&b, RTM_NEWQDISC, ifindex, TC_H_CLSACT);

	tc->tcm_handle = TC_H_MAKE(TC_H_CLSACT, 0);
	nl_put(&b.h, TCA_KIND, "clsact", sizeof("clsact"));
	return nl_talk(&b.h);
}

/*
 * On the helper's ingress: cls_bpf running prog_fd (it marks the frame and
 * matches it), then act_mirred redirecting it into to_ifindex's ingress.
 * Not bpf_redirect(): act_mirred flags the skb as redirected, and generic
 * XDP on IF (a NIC port in AF_XDP copy mode over a driver without native
 * XDP) then lets it pass instead of taking it back into the NIC RX ring.
 */
static int tc_inject_filter_add(int ifindex, int prog_fd, int to_ifindex)
{
	struct tc_mirred mirred = {
		.action = TC_ACT_STOLEN,
		.eaction = TCA_INGRESS_REDIR,
		.ifindex = to_ifindex,
	};
	struct rtattr *opts, *acts, *act, *aopts;
	uint32_t fd32 = prog_fd;
	struct nlbuf b;
	struct tcmsg *tc = tc_msg_init(&b, RTM_NEWTFILTER, ifindex,
				       TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS));

	tc->tcm_info = TC_H_MAKE(1u << 16, htons(ETH_P_ALL));	/* prio 1, all protocols */
	nl_put(&b.h, TCA_KIND, "bpf", sizeof("bpf"));
	opts = nl_put(&b.h, TCA_OPTIONS, NULL, 0);
	nl_put(&b.h, TCA_BPF_FD, &fd32, sizeof(fd32));
	nl_put(&b.h, TCA_BPF_NAME, "unm_host_inject", sizeof("unm_host_inject"));
	acts = nl_put(&b.h, TCA_BPF_ACT, NULL, 0);
	act = nl_put(&b.h, 1, NULL, 0);		/* the first action */
	nl_put(&b.h, TCA_ACT_KIND, "mirred", sizeof("mirred"));
	aopts = nl_put(&b.h, TCA_ACT_OPTIONS, NULL, 0);
	nl_put(&b.h, TCA_MIRRED_PARMS, &mirred, sizeof(mirred));
	nl_end(&b.h, aopts);
	nl_end(&b.h, act);
	nl_end(&b.h, acts);
	nl_end(&b.h, opts);
	return nl_talk(&b.h);
}

static int veth_delete(int ifindex)
{
	struct nlbuf b;
	struct ifinfomsg *ifi;

	memset(&b, 0, sizeof(b));
	b.h.nlmsg_len = NLMSG_LENGTH(sizeof(*ifi));
	b.h.nlmsg_type = RTM_DELLINK;
	ifi = NLMSG_DATA(&b.h);
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return nl_talk(&b.h);
}

/*
 * In a namespace of our own (this thread only, and back): the veth pair,
 * the packet sockets on its private end. Leaves p->ns_fd and p->sock[] set.
 */
static int helper_create(struct host_port *p, const uint8_t mac[ETH_ALEN])
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	int orig_fd, fd = -1, one = 1, rcvbuf = 4 << 20, err, err2, tries, fanout, fanout_id = 0;
	socklen_t len;
	const char *what;
	unsigned i;

	orig_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (orig_fd < 0)
		return -errno;
	what = "unshare(CLONE_NEWNET)";
	if (unshare(CLONE_NEWNET) < 0) {
		err = -errno;
		goto out_log;
	}
	p->ns_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	err = p->ns_fd < 0 ? -errno : 0;
	what = "private namespace";
	if (err)
		goto out_back;
	sysctl_write("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	what = "creating the helper veth pair";
	/* an old pair of ours may still be on its way out (namespace cleanup) */
	for (tries = 0; tries < 100; tries++) {
		err = veth_create(p, orig_fd, mac);
		if (err != -EEXIST)
			break;
		usleep(10000);
	}
	if (err)
		goto out_back;
	what = "packet socket on the helper";
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	err = fd < 0 ? -errno : if_up(fd, HOST_PEER_NAME);
	if (fd >= 0)
		close(fd);
	if (err)
		goto out_back;
	sll.sll_ifindex = if_nametoindex(HOST_PEER_NAME);
	for (i = 0; i < p->nsock && !err; i++) {
		int sk = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL));

		p->sock[i] = sk;
		if (sk < 0 || !sll.sll_ifindex || bind(sk, (struct sockaddr *)&sll, sizeof(sll)) < 0 ||
		    setsockopt(sk, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0 ||
		    setsockopt(sk, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) < 0 ||
		    setsockopt(sk, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) < 0) {
			err = sll.sll_ifindex ? -errno : -ENODEV;
			break;
		}
		setsockopt(sk, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
		if (p->nsock < 2)
			break;
		/* several host RX rings: one fanout group, a flow stays on one ring */
		what = "packet socket fanout on the helper";
		fanout = i == 0 ? (PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_UNIQUEID) << 16 :
				  (PACKET_FANOUT_HASH << 16) | fanout_id;
		if (setsockopt(sk, SOL_PACKET, PACKET_FANOUT, &fanout, sizeof(fanout)) < 0) {
			err = -errno;
			break;
		}
		len = sizeof(fanout);
		if (i == 0 && getsockopt(sk, SOL_PACKET, PACKET_FANOUT, &fanout, &len) < 0) {
			err = -errno;
			break;
		}
		if (i == 0)
			fanout_id = fanout & 0xffff;
	}
out_back:
	if (setns(orig_fd, CLONE_NEWNET) < 0) {
		err2 = -errno;
		/* this thread is stranded in the wrong namespace: say it loudly */
		unm_log(UNM_LOG_ERR, "%s: host rings: cannot return to the original network namespace: %s",
			p->ifname, strerror(-err2));
		err = err ?: err2;
	}
out_log:
	close(orig_fd);
	if (err)
		unm_log(UNM_LOG_ERR, "%s: host rings: %s: %s", p->ifname, what, strerror(-err));
	return err;
}

static void host_port_free(struct host_port *p)
{
	unsigned i;

	if (p->capture_link >= 0)
		close(p->capture_link);
	if (p->unmark_link >= 0)
		close(p->unmark_link);
	if (p->skel)
		unm_host_redirect__destroy(p->skel);
	for (i = 0; i < p->nsock; i++)
		if (p->sock[i] >= 0)
			close(p->sock[i]);
	/* at once rather than when the namespace's cleanup gets to it */
	if (p->helper_ifindex > 0)
		veth_delete(p->helper_ifindex);
	if (p->ns_fd >= 0)
		close(p->ns_fd);
	if (p->rx_trunc || p->tx_long || p->tx_short || p->tx_err)
		unm_log(UNM_LOG_INFO, "%s: host rings: %llu RX frames over a buffer dropped, TX dropped: %llu over MTU, %llu runts, %llu refused",
			p->ifname, (unsigned long long)p->rx_trunc, (unsigned long long)p->tx_long,
			(unsigned long long)p->tx_short, (unsigned long long)p->tx_err);
	free(p);
}

static int if_info(struct host_port *p, uint8_t mac[ETH_ALEN])
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err;

	if (fd < 0)
		return -errno;
	err = if_ioctl(fd, SIOCGIFFLAGS, p->ifname, &ifr);
	if (err) {
		err = err == -ENODEV ? -ENXIO : err;
		unm_log(UNM_LOG_ERR, "%s: %s", p->ifname,
			err == -ENXIO ? "no such interface" : strerror(-err));
		goto out;
	}
	if (!(ifr.ifr_flags & IFF_UP)) {
		unm_log(UNM_LOG_ERR, "%s: interface is down", p->ifname);
		err = -ENETDOWN;
		goto out;
	}
	err = if_ioctl(fd, SIOCGIFMTU, p->ifname, &ifr);
	if (!err)
		p->mtu = ifr.ifr_mtu;
	err = err ?: if_ioctl(fd, SIOCGIFHWADDR, p->ifname, &ifr);
	if (!err && ifr.ifr_hwaddr.sa_family != 1 /* ARPHRD_ETHER */) {
		unm_log(UNM_LOG_ERR, "%s: host rings need an Ethernet interface", p->ifname);
		err = -EOPNOTSUPP;
	} else if (!err) {
		memcpy(mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	} else {
		unm_log(UNM_LOG_ERR, "%s: %s", p->ifname, strerror(-err));
	}
out:
	close(fd);
	return err;
}

static bool pid_alive(pid_t pid)
{
	return kill(pid, 0) == 0 || errno == EPERM;
}

static int host_attach(uint16_t pidx)
{
	LIBBPF_OPTS(bpf_link_create_opts, last, .flags = HOST_F_AFTER);
	struct unm_kport *port = &unm_k->ports[pidx];
	struct host_port *p;
	uint8_t mac[ETH_ALEN];
	const char *what;
	unsigned i;
	int fd, err;

	if (host_ports[pidx]) {
		if (port->host_pid == unm_pid)
			return 0;
		/* state left from a port this slot held before */
		host_port_free(host_ports[pidx]);
		host_ports[pidx] = NULL;
	}
	if (port->host_pid && port->host_pid != unm_pid && pid_alive(port->host_pid)) {
		unm_log(UNM_LOG_ERR, "%s: host rings already open in process %d",
			port->name, port->host_pid);
		return -EBUSY;
	}
	if (port->nhost[UNM_TX] > UNM_MAX_HOST_RINGS || port->nhost[UNM_RX] > UNM_MAX_HOST_RINGS) {
		unm_log(UNM_LOG_ERR, "%s: %u host TX / %u host RX rings asked, at most %u each",
			port->name, port->nhost[UNM_TX], port->nhost[UNM_RX], UNM_MAX_HOST_RINGS);
		return -EINVAL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->pidx = pidx;
	p->ns_fd = p->capture_link = p->unmark_link = -1;
	p->nsock = port->nhost[UNM_RX] ? port->nhost[UNM_RX] : 1;
	for (i = 0; i < UNM_MAX_HOST_RINGS; i++)
		p->sock[i] = -1;
	p->nic_rings[UNM_TX] = port->nrings[0][UNM_TX];
	p->nic_rings[UNM_RX] = port->nrings[0][UNM_RX];
	memcpy(p->ifname, port->name, strnlen(port->name, sizeof(p->ifname) - 1));
	p->ifindex = if_nametoindex(p->ifname);
	if (!p->ifindex) {
		unm_log(UNM_LOG_ERR, "%s: no such interface", p->ifname);
		err = -ENXIO;
		goto out_free;
	}
	err = if_info(p, mac);
	if (err)
		goto out_free;
	snprintf(p->helper, sizeof(p->helper), "unmh%d", p->ifindex);
	err = helper_create(p, mac);
	if (err)
		goto out_free;
	what = "helper end";
	p->helper_ifindex = if_nametoindex(p->helper);
	err = p->helper_ifindex ? ipv6_off(p->helper) : -ENODEV;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		err = err ?: -errno;
	if (!err)
		err = offloads_off(fd, p->helper);
	if (!err)
		err = if_up(fd, p->helper);
	if (fd >= 0)
		close(fd);
	if (err)
		goto out_log;
	what = "BPF programs";
	p->skel = unm_host_redirect__open();
	if (!p->skel) {
		err = -errno;
		goto out_log;
	}
	p->skel->rodata->helper_ifindex = p->helper_ifindex;
	p->skel->rodata->inject_mark = UNM_HOST_MARK;
	err = unm_host_redirect__load(p->skel);
	if (err)
		goto out_log;
	/* last on IF's ingress: whatever runs before it still sees the mark */
	what = "tcx ingress link on the interface";
	p->unmark_link = bpf_link_create(bpf_program__fd(p->skel->progs.unm_host_unmark),
					 p->ifindex, HOST_TCX_INGRESS, &last);
	if (p->unmark_link < 0) {
		err = -errno;
		goto out_log;
	}
	/* the return path first: a captured frame is never lost for want of it */
	what = "tc ingress filter (act_mirred) on the helper";
	err = tc_clsact_add(p->helper_ifindex);
	if (!err)
		err = tc_inject_filter_add(p->helper_ifindex,
					   bpf_program__fd(p->skel->progs.unm_host_inject),
					   p->ifindex);
	if (err)
		goto out_log;
	what = "tcx egress link on the interface";
	p->capture_link = bpf_link_create(bpf_program__fd(p->skel->progs.unm_host_capture),
					  p->ifindex, HOST_TCX_EGRESS, NULL);
	if (p->capture_link < 0) {
		err = -errno;
		goto out_log;
	}
	port->host_pid = unm_pid;
	host_ports[pidx] = p;
	unm_log(UNM_LOG_INFO, "%s: host rings through helper %s (TC redirect, offloads done by the kernel on the helper)",
		p->ifname, p->helper);
	return 0;

out_log:
	unm_log(UNM_LOG_ERR, "%s: host rings: %s: %s", p->ifname, what, strerror(-err));
out_free:
	host_port_free(p);
	return err;
}

static void host_destroy(uint16_t pidx, char *base)
{
	struct host_port *p = host_ports[pidx];

	(void)base;	/* copies only: the rings' buffers never left the slots */
	if (!p || unm_k->ports[pidx].host_pid != unm_pid)
		return;
	host_ports[pidx] = NULL;
	unm_k->ports[pidx].host_pid = 0;
	host_port_free(p);
}

/* An fd of ours bound the host RX ring: the packet socket wakes its poll(). */
static int host_bind(struct unm_priv_local *pl, uint16_t pidx)
{
	struct host_port *p = host_ports[pidx];
	struct unm_kpriv *kp = &unm_k->privs[pl->slot];
	unsigned i;
	int err;

	if (!p)
		return -ENXIO;
	/* the sockets of the host RX rings this fd binds */
	for (i = kp->qfirst[UNM_RX]; i < kp->qlast[UNM_RX]; i++) {
		if (i < p->nic_rings[UNM_RX])
			continue;
		err = unm_priv_watch(pl, p->sock[(i - p->nic_rings[UNM_RX]) % p->nsock]);
		if (err)
			return err;
	}
	return 0;
}

/*
 * Not in the registry's parse table: host rings are rings of a NIC port
 * (afxdp.c names it); ctl.c hands the host rings' range to these ops.
 */
const struct unm_port_ops unm_host_ops = {
	.name = "host",
	.kind = UNM_PORT_HW,
	.txsync = host_txsync,
	.rxsync = host_rxsync,
	.attach = host_attach,
	.bind = host_bind,
	.destroy = host_destroy,
};
