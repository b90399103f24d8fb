package devhs

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
)

// Ports from FreePorts come from below Linux's ephemeral range
// (32768–60999), so outgoing connections of parallel tests cannot take them
// between the probe and the bind.
const (
	portRangeLow  = 20000
	portRangeHigh = 32000
)

// FreePorts returns n distinct loopback TCP ports that could be bound just
// now, none returned before in this process. Another process may still
// take one before it is used, so whoever binds it must handle
// ErrAddrInUse.
func FreePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	seen := map[int]bool{}
	for attempt := 0; len(ports) < n; attempt++ {
		if attempt > 1000 {
			return nil, errors.New("no free loopback port found")
		}
		port := portRangeLow + rand.IntN(portRangeHigh-portRangeLow)
		if seen[port] || !handOut(port) {
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

// handedOut are the ports FreePorts returned in this process: it never
// returns one twice, so a port picked early for one server (and not yet
// bound) is not handed to another started meanwhile.
var handedOut = struct {
	sync.Mutex
	ports map[int]bool
}{ports: map[int]bool{}}

// handOut reserves port for the caller, or reports that it went out
// before.
func handOut(port int) bool {
	handedOut.Lock()
	defer handedOut.Unlock()
	if handedOut.ports[port] {
		return false
	}
	handedOut.ports[port] = true
	return true
}
