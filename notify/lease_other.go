//go:build !unix

package notify

// processAlive cannot tell a dead process from a live one here, so it says
// every process is alive: a dead run's leases are then taken over when they
// expire, after SendOptions.Lease, instead of at once.
func processAlive(pid int) bool { return true }
