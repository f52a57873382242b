# SPDX-License-Identifier: BSD-2-Clause
# Sourced by the pkt-gen tests over pipes: pipe_lib.bash plus pkt-gen.
source "$(dirname "${BASH_SOURCE[0]}")/pipe_lib.bash"
PG=$BUILD/tools/pkt-gen
need_built "$PG"
