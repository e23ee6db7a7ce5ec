//go:build unix

package notify_test

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user and system) this process has used so far:
// unlike a rate, a stage's CPU time barely changes when other processes
// load the machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
