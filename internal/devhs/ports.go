package devhs

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"strconv"
)

// Ports from FreePorts come from below Linux's ephemeral range
// (32768–60999), so outgoing connections of parallel tests cannot take them
// between the probe and the bind.
const (
	portRangeLow  = 20000
	portRangeHigh = 32000
)

// FreePorts returns n distinct loopback TCP ports that could be bound just
// now. Another process may still take one before it is used, so whoever
// binds it must handle ErrAddrInUse.
func FreePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	seen := map[int]bool{}
	for attempt := 0; len(ports) < n; attempt++ {
		if attempt > 1000 {
			return nil, errors.New("no free loopback port found")
		}
		port := portRangeLow + rand.IntN(portRangeHigh-portRangeLow)
		if seen[port] {
			continue
		}
		seen[port] = true
		// A bind on loopback does not block: there is nothing to cancel.
		l, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		l.Close()
		ports = append(ports, port)
	}
	return ports, nil
}
