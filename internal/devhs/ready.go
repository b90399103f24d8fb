package devhs

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// PollInterval is how often devhs polls for a condition.
const PollInterval = 100 * time.Millisecond

// waitReady polls until the homeserver serves the client API (/versions) and both
// listeners answer the server key request with our server name, which also
// proves that no other process holds one of the ports. It gives up when the
// process exits or ctx ends.
func waitReady(ctx context.Context, p *Process, serverName, clientURL, federationURL string) error {
	client := &http.Client{
		Timeout: 2 * time.Second,
		Transport: &http.Transport{
			// The federation listener has a throwaway self-signed certificate.
			TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // local development servers only
			DisableKeepAlives: true,
		},
	}
	pending := []string{
		clientURL + "/_matrix/client/versions",
		clientURL + "/_matrix/key/v2/server",
		federationURL + "/_matrix/key/v2/server",
	}
	var lastErr error
	ticker := time.NewTicker(PollInterval)
	defer ticker.Stop()
	for len(pending) > 0 {
		if err := checkEndpoint(ctx, client, pending[0], serverName); err != nil {
			lastErr = err
		} else {
			pending = pending[1:]
			continue
		}
		select {
		case <-p.Done():
			return fmt.Errorf("%s %w before it was ready: %w", p.name, ErrExited, p.exitError())
		case <-ctx.Done():
			return fmt.Errorf("%s not ready: %w (last: %w)", p.name, ctx.Err(), lastErr)
		case <-ticker.C:
		}
	}
	if p.Exited() {
		return fmt.Errorf("%s %w while starting: %w", p.name, ErrExited, p.exitError())
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

// truncate empties the file at path, creating it if needed.
func truncate(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("failed to reset %s: %w", path, err)
	}
	return f.Close()
}
