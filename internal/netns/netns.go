// Package netns runs a test in a network namespace of its own, so it can
// shape traffic on loopback (tc netem for loss and delay, tbf or htb for
// bandwidth) without touching the machine's network: the test binary runs
// itself again under `unshare -n`, as root, and only the chosen test runs
// there. Servers inside listen on the namespace's own loopback.
package netns

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// envInside names the test running inside a namespace.
const envInside = "RATHAUS_TEST_NETNS"

// Enter runs t inside a fresh network namespace. It returns false in the
// parent, after the child has run and its outcome became t's (the
// caller then returns), and true inside the namespace, with loopback up.
// It needs root (CI runs as root) and fails the test otherwise: a test of
// loss and bandwidth that skips itself would prove nothing.
func Enter(t *testing.T, timeout time.Duration) bool {
	t.Helper()
	if os.Getenv(envInside) == t.Name() {
		Run(t, "ip", "link", "set", "lo", "up")
		return true
	}
	if os.Geteuid() != 0 {
		t.Fatal("netns: this test shapes traffic in a network namespace and needs root (make test runs as root in CI)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	args := []string{"-n", "--", os.Args[0], "-test.run=^" + strings.ReplaceAll(t.Name(), "/", "$/^") + "$",
		"-test.v", "-test.count=1", fmt.Sprintf("-test.timeout=%s", timeout)}
	cmd := exec.CommandContext(ctx, "unshare", args...)
	cmd.Env = append(os.Environ(), envInside+"="+t.Name())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err = cmd.Start(); err != nil {
		t.Fatalf("netns: failed to start the test in a namespace: %v", err)
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		t.Log(sc.Text())
	}
	if err = cmd.Wait(); err != nil {
		t.Fatalf("netns: the test failed inside its namespace: %v", err)
	}
	return false
}

// Run runs a command (tc, ip) inside the namespace and fails the test if
// it fails.
func Run(t *testing.T, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, name, args...).CombinedOutput(); err != nil {
		t.Fatalf("netns: %s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
}
