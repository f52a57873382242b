// SPDX-License-Identifier: BSD-2-Clause
/*
 * legacy.c - NIOCREGIF and NIOCGINFO (struct nmreq, netmap's API before
 * nmreq_header), translated to NETMAP_REQ_REGISTER / PORT_INFO_GET.
 * The NETMAP_BDG_* commands of nr_cmd are not supported yet.
 */
#include <errno.h>
#include <string.h>

#include "core/unm.h"

static int legacy_to_mode(const struct nmreq *nmr, struct nmreq_register *reg)
{
	uint32_t mode = nmr->nr_flags & NR_REG_MASK;

	reg->nr_ringid = nmr->nr_ringid & NETMAP_RING_MASK;
	if (mode == NR_REG_DEFAULT) {
		if (nmr->nr_ringid & NETMAP_SW_RING)
			mode = NR_REG_SW;
		else if (nmr->nr_ringid & NETMAP_HW_RING)
			mode = NR_REG_ONE_NIC;
		else
			mode = NR_REG_ALL_NIC;
	}
	reg->nr_mode = mode;
	reg->nr_flags = nmr->nr_flags & ~NR_REG_MASK;
	if (nmr->nr_ringid & NETMAP_NO_TX_POLL)
		reg->nr_flags |= NR_NO_TX_POLL;
	if (nmr->nr_ringid & NETMAP_DO_RX_POLL)
		reg->nr_flags |= NR_DO_RX_POLL;
	return 0;
}

int unm_legacy_ioctl(struct unm_priv_local *pl, unsigned long cmd, void *arg)
{
	struct nmreq nmr;
	struct nmreq_header hdr;
	union {
		struct nmreq_register reg;
		struct nmreq_port_info_get pig;
	} body;
	int err;

	err = unm_copyin(&nmr, (uintptr_t)arg, sizeof(nmr));
	if (err)
		return err;
	/*
	 * The legacy ABI is forward compatible, as upstream's: a program built
	 * for a newer API still registers through struct nmreq, whose layout
	 * is frozen. Only versions older than the netmap_if change (14) are
	 * refused.
	 */
	if (nmr.nr_version < NETMAP_MIN_API) {
		unm_log(UNM_LOG_ERR, "%.*s: API mismatch: got %u need %d or later",
			(int)sizeof(nmr.nr_name), nmr.nr_name, nmr.nr_version,
			NETMAP_MIN_API);
		return -EINVAL;
	}
	if (nmr.nr_cmd) {
		unm_log(UNM_LOG_ERR, "%.*s: legacy nr_cmd %u not supported yet",
			(int)sizeof(nmr.nr_name), nmr.nr_name, nmr.nr_cmd);
		return -EOPNOTSUPP;
	}
	memset(&hdr, 0, sizeof(hdr));
	memset(&body, 0, sizeof(body));
	hdr.nr_version = NETMAP_API;
	memcpy(hdr.nr_name, nmr.nr_name, sizeof(nmr.nr_name));
	hdr.nr_name[sizeof(nmr.nr_name) - 1] = '\0';
	hdr.nr_body = (uintptr_t)&body;
	if (cmd == NIOCREGIF) {
		hdr.nr_reqtype = NETMAP_REQ_REGISTER;
		legacy_to_mode(&nmr, &body.reg);
		body.reg.nr_tx_slots = nmr.nr_tx_slots;
		body.reg.nr_rx_slots = nmr.nr_rx_slots;
		body.reg.nr_tx_rings = nmr.nr_tx_rings;
		body.reg.nr_rx_rings = nmr.nr_rx_rings;
		body.reg.nr_mem_id = nmr.nr_arg2;
		body.reg.nr_extra_bufs = nmr.nr_arg3;
		err = unm_ctrl(pl, &hdr);
		if (err)
			return err;
		nmr.nr_offset = body.reg.nr_offset;
		nmr.nr_memsize = body.reg.nr_memsize;
		nmr.nr_tx_slots = body.reg.nr_tx_slots;
		nmr.nr_rx_slots = body.reg.nr_rx_slots;
		nmr.nr_tx_rings = body.reg.nr_tx_rings;
		nmr.nr_rx_rings = body.reg.nr_rx_rings;
		nmr.nr_arg2 = body.reg.nr_mem_id;
		nmr.nr_arg3 = body.reg.nr_extra_bufs;
	} else {
		hdr.nr_reqtype = NETMAP_REQ_PORT_INFO_GET;
		body.pig.nr_mem_id = nmr.nr_arg2;
		body.pig.nr_tx_rings = nmr.nr_tx_rings;
		body.pig.nr_rx_rings = nmr.nr_rx_rings;
		body.pig.nr_tx_slots = nmr.nr_tx_slots;
		body.pig.nr_rx_slots = nmr.nr_rx_slots;
		err = unm_ctrl(pl, &hdr);
		if (err)
			return err;
		nmr.nr_memsize = body.pig.nr_memsize;
		nmr.nr_offset = 0;
		nmr.nr_tx_slots = body.pig.nr_tx_slots;
		nmr.nr_rx_slots = body.pig.nr_rx_slots;
		nmr.nr_tx_rings = body.pig.nr_tx_rings;
		nmr.nr_rx_rings = body.pig.nr_rx_rings;
		nmr.nr_arg2 = body.pig.nr_mem_id;
	}
	return unm_copyout((uintptr_t)arg, &nmr, sizeof(nmr));
}
