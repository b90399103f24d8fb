package demo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/rathaus-de/rathaus/internal/devhs"
	"github.com/rathaus-de/rathaus/video/livekit/livekittest"
)

// children are the processes the demo supervises; either may be nil while
// starting.
type children struct {
	dendrite *devhs.Server
	rathaus  *devhs.Process
	livekit  *livekittest.Server
}

// stop stops rathaus, then LiveKit and Dendrite, and returns how they ended, unless a
// child had died on its own: that was reported already.
func (c *children) stop() error {
	var errs []error
	if c.rathaus != nil {
		if err := c.rathaus.Stop(rathausStopGrace); err != nil {
			errs = append(errs, err)
		}
	}
	if c.livekit != nil {
		c.livekit.Close()
	}
	if c.dendrite != nil {
		if err := c.dendrite.Stop(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// rathausDied and dendriteDied describe a child that exited without being
// asked to, with the tail of its log.
func (c *children) rathausDied() error {
	return died("rathaus", c.rathaus.Err(), c.rathaus.LogFile(), c.rathaus.LogTail(logTailLines))
}

func (c *children) dendriteDied() error {
	return died("dendrite", c.dendrite.Err(), c.dendrite.ConsoleLog, c.dendrite.LogTail(logTailLines))
}

func died(what string, exitErr error, logFile, tail string) error {
	how := what + " exited with status 0"
	if exitErr != nil {
		how = exitErr.Error()
	}
	return fmt.Errorf("%w: %s. Last lines of %s:\n%s", ErrChildExited, how, logFile, tail)
}

// waitRathausReady polls rathaus's readiness endpoint, which answers 200
// once the bot is registered with the homeserver.
func (c *children) waitRathausReady(ctx context.Context, listen string) error {
	url := "http://" + listen + "/_matrix/mau/ready"
	client := &http.Client{Timeout: 2 * time.Second}
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	ticker := time.NewTicker(200 * time.Millisecond)
	defer ticker.Stop()
	var last error
	for {
		last = getOK(ctx, client, url)
		if last == nil {
			return nil
		}
		select {
		case <-c.rathaus.Done():
			return c.rathausDied()
		case <-c.dendrite.Done():
			return c.dendriteDied()
		case <-ctx.Done():
			return fmt.Errorf("rathaus not ready after %s (%w); see %s", startTimeout, last, c.rathaus.LogFile())
		case <-ticker.C:
		}
	}
}

func getOK(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	return nil
}
