package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

const (
	firstRetryWait = 100 * time.Millisecond
	maxRetryWait   = 5 * time.Second
)

// sender pushes transactions to an appservice the way a homeserver does:
// each transaction is PUT until it is answered 200, InFlight of them at a
// time.
type sender struct {
	client *http.Client
	base   string
	token  string

	acked   atomic.Int64 // events acknowledged so far
	retries atomic.Int64 // PUTs answered with anything but 200, or failed
	// lastErr is the last failure, for the progress line.
	mu      sync.Mutex
	lastErr error
}

// sendAll sends txns with inFlight workers and returns each transaction's
// ack latency (first PUT to the 200). It returns early only if ctx ends.
func (s *sender) sendAll(ctx context.Context, txns []transaction, inFlight int) ([]time.Duration, error) {
	latencies := make([]time.Duration, len(txns))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range inFlight {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(txns) || ctx.Err() != nil {
					return
				}
				start := time.Now()
				if !s.put(ctx, txns[i]) {
					return
				}
				latencies[i] = time.Since(start)
				s.acked.Add(int64(txns[i].events))
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return latencies, nil
}

// put sends one transaction until it is acknowledged, honouring a
// Retry-After or retry_after_ms as a homeserver would. It reports false if
// ctx ended first.
func (s *sender) put(ctx context.Context, txn transaction) bool {
	wait := firstRetryWait
	for {
		retryAfter, err := s.putOnce(ctx, txn)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		s.retries.Add(1)
		s.mu.Lock()
		s.lastErr = err
		s.mu.Unlock()
		pause := wait
		if retryAfter > 0 {
			pause = min(retryAfter, maxRetryWait)
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(pause):
		}
		wait = min(wait*2, maxRetryWait)
	}
}

// putOnce makes one PUT. On failure it returns the pause the appservice
// asked for, if any.
func (s *sender) putOnce(ctx context.Context, txn transaction) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut,
		s.base+"/_matrix/app/v1/transactions/"+txn.id, bytes.NewReader(txn.body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64*1024))
	if resp.StatusCode == http.StatusOK {
		return 0, nil
	}
	var retryAfter time.Duration
	if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 {
		retryAfter = time.Duration(secs) * time.Second
	}
	var matrixErr struct {
		ErrCode      string `json:"errcode"`
		RetryAfterMS int64  `json:"retry_after_ms"`
	}
	if json.Unmarshal(body, &matrixErr) == nil && matrixErr.RetryAfterMS > 0 {
		retryAfter = time.Duration(matrixErr.RetryAfterMS) * time.Millisecond
	}
	return retryAfter, fmt.Errorf("PUT transaction %s: status %d %s", txn.id, resp.StatusCode, matrixErr.ErrCode)
}

// takeLastErr returns and clears the last failure.
func (s *sender) takeLastErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.lastErr
	s.lastErr = nil
	return err
}
