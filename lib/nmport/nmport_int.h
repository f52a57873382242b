/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Private to lib/nmport: what nmreq.c and nmport.c share beyond the public
 * libnetmap.h.
 */
#ifndef UNM_NMPORT_INT_H
#define UNM_NMPORT_INT_H

#include <net/netmap.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

/*
 * NETMAP_REQ_OPT_UNM_POOLS (our extension, net/netmap.h): pool sizes for a
 * memory region that the register request creates. nmport_parse() pushes it
 * for "@conf:if-num=...,buf-size=..." and friends.
 */
#ifndef NETMAP_REQ_OPT_UNM_POOLS
#error "net/netmap.h lacks NETMAP_REQ_OPT_UNM_POOLS"
#endif

#endif /* UNM_NMPORT_INT_H */
