package videotest

import (
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

// Impairment is a lossy, slow network path at a client's socket: every
// datagram in either direction is dropped with probability Loss and the
// rest are delayed by Delay. It stands in for tc netem where the kernel
// has none (this machine's has no sch_netem); the SFU cannot tell the
// difference, because it only sees what arrives and what goes missing.
type Impairment struct {
	mu    sync.Mutex
	loss  float64
	delay time.Duration
	rnd   *rand.Rand
}

// NewImpairment starts with a clean path.
func NewImpairment() *Impairment {
	return &Impairment{rnd: rand.New(rand.NewPCG(1, 2))} //nolint:gosec // loss needs no secure randomness
}

// Set changes loss (0…1) and one-way delay from now on; loss 1 is an
// outage.
func (i *Impairment) Set(loss float64, delay time.Duration) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.loss, i.delay = loss, delay
}

// decide says whether to drop a datagram and how long to hold it.
func (i *Impairment) decide() (drop bool, delay time.Duration) {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.loss > 0 && i.rnd.Float64() < i.loss, i.delay
}

type datagram struct {
	b    []byte
	addr net.Addr
}

// impairedConn applies an Impairment to a real UDP socket.
type impairedConn struct {
	net.PacketConn
	imp  *Impairment
	in   chan datagram
	done chan struct{}
	once sync.Once
}

func impair(pc net.PacketConn, imp *Impairment) *impairedConn {
	c := &impairedConn{PacketConn: pc, imp: imp, in: make(chan datagram, 4096), done: make(chan struct{})}
	go c.readLoop()
	return c
}

func (c *impairedConn) readLoop() {
	buf := make([]byte, 1600)
	for {
		n, addr, err := c.PacketConn.ReadFrom(buf)
		if err != nil {
			c.once.Do(func() { close(c.done) })
			return
		}
		drop, delay := c.imp.decide()
		if drop {
			continue
		}
		d := datagram{b: append([]byte(nil), buf[:n]...), addr: addr}
		if delay <= 0 {
			c.deliver(d)
			continue
		}
		time.AfterFunc(delay, func() { c.deliver(d) })
	}
}

func (c *impairedConn) deliver(d datagram) {
	select {
	case c.in <- d:
	case <-c.done:
	default: // a full receive buffer drops, as a kernel's would
	}
}

func (c *impairedConn) ReadFrom(b []byte) (int, net.Addr, error) {
	select {
	case d := <-c.in:
		return copy(b, d.b), d.addr, nil
	case <-c.done:
		return 0, nil, net.ErrClosed
	}
}

func (c *impairedConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	drop, delay := c.imp.decide()
	if drop {
		return len(b), nil
	}
	if delay <= 0 {
		return c.PacketConn.WriteTo(b, addr)
	}
	cp := append([]byte(nil), b...)
	time.AfterFunc(delay, func() { _, _ = c.PacketConn.WriteTo(cp, addr) })
	return len(b), nil
}

func (c *impairedConn) Close() error {
	c.once.Do(func() { close(c.done) })
	return c.PacketConn.Close()
}
