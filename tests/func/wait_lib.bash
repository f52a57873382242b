# SPDX-License-Identifier: BSD-2-Clause
# Sourced by pipe_lib.bash and nic_lib.bash.

# wait_for FILE REGEX SECS: until a line of FILE matches
wait_for() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -Eq "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
