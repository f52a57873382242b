/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The library is built with -fvisibility=hidden; a function that is part of
 * the public API (or an interposed libc entry point) is marked UNM_API and
 * listed in lib/libnetmap.map.
 */
#ifndef UNM_EXPORT_H
#define UNM_EXPORT_H
#define UNM_API __attribute__((visibility("default")))
#endif
