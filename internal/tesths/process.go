package tesths

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	readyTimeout = 60 * time.Second
	pollInterval = 100 * time.Millisecond
	stopGrace    = 5 * time.Second
	// Test ports come from below Linux's ephemeral range (32768–60999), so
	// outgoing connections of parallel tests cannot take them between the
	// probe and Dendrite's bind.
	portRangeLow  = 20000
	portRangeHigh = 32000
)

// errAddrInUse reports that Dendrite could not bind a listener; the caller
// picks new ports and tries again.
var errAddrInUse = errors.New("listener address already in use")

// process is one running Dendrite.
type process struct {
	cmd     *exec.Cmd
	console *os.File
	done    chan struct{} // closed when the process has exited
	waitErr error         // valid once done is closed
}

func launch(binary string, files instanceFiles, httpAddr, httpsAddr string) (*process, error) {
	if err := os.MkdirAll(files.logDir, 0o755); err != nil {
		return nil, fmt.Errorf("failed to create log directory: %w", err)
	}
	console, err := os.OpenFile(files.console, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("failed to open console log: %w", err)
	}
	cmd := exec.Command(binary,
		"--config", files.config,
		"--http-bind-address", httpAddr,
		"--https-bind-address", httpsAddr,
		"--tls-cert", files.tlsCert,
		"--tls-key", files.tlsKey,
	)
	cmd.Dir = files.dir
	cmd.Stdout = console
	cmd.Stderr = console
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		console.Close()
		return nil, fmt.Errorf("failed to start Dendrite: %w", err)
	}
	p := &process{cmd: cmd, console: console, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		console.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM and, if Dendrite has not shut down after stopGrace,
// SIGKILL. It returns once the process is gone.
func (p *process) stop() {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return
	case <-time.After(stopGrace):
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// waitReady polls until Dendrite serves the client API (/versions) and both
// listeners answer the server key request with our server name, which also
// proves that no other process holds one of the ports. It gives up when the
// process exits or the timeout passes.
func waitReady(ctx context.Context, p *process, serverName, clientURL, federationURL string) error {
	client := &http.Client{
		Timeout: 2 * time.Second,
		Transport: &http.Transport{
			// The federation listener has a throwaway self-signed certificate.
			TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // test servers only
			DisableKeepAlives: true,
		},
	}
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	pending := []string{
		clientURL + "/_matrix/client/versions",
		clientURL + "/_matrix/key/v2/server",
		federationURL + "/_matrix/key/v2/server",
	}
	var lastErr error
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for len(pending) > 0 {
		if err := checkEndpoint(ctx, client, pending[0], serverName); err != nil {
			lastErr = err
		} else {
			pending = pending[1:]
			continue
		}
		select {
		case <-p.done:
			return fmt.Errorf("dendrite exited before it was ready: %v", p.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("dendrite not ready after %s: %w", readyTimeout, lastErr)
		case <-ticker.C:
		}
	}
	if p.exited() {
		return fmt.Errorf("dendrite exited while starting: %v", p.waitErr)
	}
	return nil
}

// checkEndpoint GETs url and expects 200; for a server key response it also
// expects serverName.
func checkEndpoint(ctx context.Context, client *http.Client, url, serverName string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	if strings.HasSuffix(url, "/_matrix/key/v2/server") {
		var keys struct {
			ServerName string `json:"server_name"`
		}
		if err := json.Unmarshal(body, &keys); err != nil {
			return fmt.Errorf("GET %s: %w", url, err)
		}
		if keys.ServerName != serverName {
			return fmt.Errorf("GET %s: answered by %q, not %q", url, keys.ServerName, serverName)
		}
	}
	return nil
}

// freePorts returns n distinct loopback ports that could be bound just now.
func freePorts(n int) ([]int, error) {
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
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		l.Close()
		ports = append(ports, port)
	}
	return ports, nil
}

// tailLines returns the last n lines of the file at path.
func tailLines(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	data = bytes.TrimRight(data, "\n")
	lines := strings.Split(string(data), "\n")
	if n > 0 && len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
