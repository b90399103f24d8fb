// Package guestclient is a Go client of the guest chat API
// (docs/guest-chat.md) for tests: it behaves like the citizen's page —
// cookie jar, CSRF header, proof of work — without a browser.
package guestclient

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rathaus-de/rathaus/widgets/guestchat/pow"
)

// Client is one browser session.
type Client struct {
	Base string
	HTTP *http.Client
	CSRF string
	// Origin is sent on POSTs, as a browser would; "" sends none.
	Origin string
}

// New returns a client with an empty cookie jar.
func New(base string) *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{Base: strings.TrimRight(base, "/"), HTTP: &http.Client{Jar: jar, Timeout: 60 * time.Second}, Origin: strings.TrimRight(base, "/")}
}

// Response is a decoded answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v.
func (r *Response) JSON(v any) error { return json.Unmarshal(r.Body, v) }

// Code is the errcode of an error answer ({"errcode": …, "error": …}).
func (r *Response) Code() string {
	var e struct {
		ErrCode string `json:"errcode"`
	}
	_ = json.Unmarshal(r.Body, &e)
	return e.ErrCode
}

// Do sends a request to path (relative to the API root if it does not
// start with "/").
func (c *Client) Do(ctx context.Context, method, path, contentType string, body []byte, header map[string]string) (*Response, error) {
	if !strings.HasPrefix(path, "/") {
		path = "/api/guest/v1/" + path
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if method == http.MethodPost {
		if c.CSRF != "" {
			req.Header.Set("X-Rathaus-CSRF", c.CSRF)
		}
		if c.Origin != "" {
			req.Header.Set("Origin", c.Origin)
		}
	}
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}, err
}

// Post sends v as JSON.
func (c *Client) Post(ctx context.Context, path string, v any) (*Response, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return c.Do(ctx, http.MethodPost, path, "application/json", body, nil)
}

// Get fetches path.
func (c *Client) Get(ctx context.Context, path string) (*Response, error) {
	return c.Do(ctx, http.MethodGet, path, "", nil, nil)
}

// Case is the API's case.
type Case struct {
	ID            string `json:"id"`
	Reference     string `json:"reference"`
	Status        string `json:"status"`
	Open          bool   `json:"open"`
	QueuePosition int    `json:"queue_position"`
	Department    struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"department"`
}

// StartSession makes (or resumes) the session and keeps its CSRF token.
func (c *Client) StartSession(ctx context.Context) (*Case, error) {
	resp, err := c.Post(ctx, "session", map[string]any{})
	if err != nil {
		return nil, err
	}
	return c.takeSession(resp)
}

// Resume asks for the current session (GET).
func (c *Client) Resume(ctx context.Context) (*Case, error) {
	resp, err := c.Get(ctx, "session")
	if err != nil {
		return nil, err
	}
	return c.takeSession(resp)
}

func (c *Client) takeSession(resp *Response) (*Case, error) {
	if resp.Status != http.StatusOK {
		return nil, fmt.Errorf("session: %d %s", resp.Status, resp.Body)
	}
	var s struct {
		CSRF string `json:"csrf_token"`
		Case *Case  `json:"case"`
	}
	if err := resp.JSON(&s); err != nil {
		return nil, err
	}
	c.CSRF = s.CSRF
	return s.Case, nil
}

// Solve fetches a challenge and solves it.
func (c *Client) Solve(ctx context.Context) (token, nonce string, err error) {
	resp, err := c.Post(ctx, "challenge", map[string]any{})
	if err != nil {
		return "", "", err
	} else if resp.Status != http.StatusOK {
		return "", "", fmt.Errorf("challenge: %d %s", resp.Status, resp.Body)
	}
	var ch struct {
		Token      string `json:"token"`
		Difficulty int    `json:"difficulty"`
	}
	if err = resp.JSON(&ch); err != nil {
		return "", "", err
	}
	nonce, err = pow.Solve(ctx, ch.Token, ch.Difficulty)
	return ch.Token, nonce, err
}

// OpenRequest is the body of POST cases without the challenge.
type OpenRequest struct {
	Department, Service, Name, Question, TxnID string
	// HandOver is the hand-over page's {"context", "origin"}, or nil.
	HandOver map[string]string
}

// OpenCaseWith posts a case with a solved challenge and returns the raw
// answer.
func (c *Client) OpenCaseWith(ctx context.Context, r OpenRequest, token, nonce string) (*Response, error) {
	body := map[string]any{"department": r.Department, "service": r.Service, "name": r.Name,
		"question": r.Question, "txn_id": r.TxnID, "pow": map[string]string{"token": token, "nonce": nonce}}
	if r.HandOver != nil {
		body["handover"] = r.HandOver
	}
	return c.Post(ctx, "cases", body)
}

// OpenCase solves a challenge and opens a case.
func (c *Client) OpenCase(ctx context.Context, r OpenRequest) (*Case, error) {
	token, nonce, err := c.Solve(ctx)
	if err != nil {
		return nil, err
	}
	resp, err := c.OpenCaseWith(ctx, r, token, nonce)
	if err != nil {
		return nil, err
	} else if resp.Status != http.StatusCreated && resp.Status != http.StatusOK {
		return nil, fmt.Errorf("open case: %d %s", resp.Status, resp.Body)
	}
	var out Case
	return &out, resp.JSON(&out)
}

// Send posts a message.
func (c *Client) Send(ctx context.Context, caseID, txnID, body string) (*Response, error) {
	return c.Post(ctx, "cases/"+caseID+"/messages", map[string]string{"txn_id": txnID, "body": body})
}

// Upload posts a file.
func (c *Client) Upload(ctx context.Context, caseID, txnID, name, contentType string, data []byte) (*Response, error) {
	q := url.Values{"txn_id": {txnID}, "name": {name}}
	return c.Do(ctx, http.MethodPost, "cases/"+caseID+"/attachments?"+q.Encode(), contentType, data, nil)
}

// Event is one Server-Sent Event.
type Event struct {
	Name string
	ID   int64
	Data map[string]any
}

// Stream reads the case's live stream until ctx ends, from after
// lastEventID (0: the beginning), and delivers the events on the channel.
// The channel closes when the stream ends; the error (if any) is then in
// Err of the returned Stream.
type Stream struct {
	Events <-chan Event
	Err    error
	cancel context.CancelFunc
	done   chan struct{}
}

// Close ends the stream.
func (s *Stream) Close() {
	s.cancel()
	<-s.done
}

// Stream opens the live stream.
func (c *Client) Stream(ctx context.Context, caseID string, lastEventID int64) (*Stream, error) {
	ctx, cancel := context.WithCancel(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Base+"/api/guest/v1/cases/"+caseID+"/events", nil)
	if err != nil {
		cancel()
		return nil, err
	}
	if lastEventID > 0 {
		req.Header.Set("Last-Event-ID", strconv.FormatInt(lastEventID, 10))
	}
	hc := *c.HTTP
	hc.Timeout = 0
	resp, err := hc.Do(req)
	if err != nil {
		cancel()
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		return nil, fmt.Errorf("stream: %d %s", resp.StatusCode, body)
	}
	ch := make(chan Event, 256)
	s := &Stream{Events: ch, cancel: cancel, done: make(chan struct{})}
	go func(body io.ReadCloser) {
		defer close(s.done)
		defer close(ch)
		defer body.Close()
		sc := bufio.NewScanner(body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		var e Event
		var data strings.Builder
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if e.Name != "" {
					e.Data = map[string]any{}
					_ = json.Unmarshal([]byte(data.String()), &e.Data)
					select {
					case ch <- e:
					case <-ctx.Done():
						return
					}
				}
				e, data = Event{}, strings.Builder{}
			case strings.HasPrefix(line, "event: "):
				e.Name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "id: "):
				e.ID, _ = strconv.ParseInt(strings.TrimPrefix(line, "id: "), 10, 64)
			case strings.HasPrefix(line, "data: "):
				data.WriteString(strings.TrimPrefix(line, "data: "))
			}
		}
		if ctx.Err() == nil {
			s.Err = sc.Err()
		}
	}(resp.Body)
	return s, nil
}

// Next waits for the next event matching pred, skipping others.
func (s *Stream) Next(timeout time.Duration, pred func(Event) bool) (Event, error) {
	deadline := time.After(timeout)
	for {
		select {
		case e, ok := <-s.Events:
			if !ok {
				if s.Err != nil {
					return Event{}, fmt.Errorf("stream ended: %w", s.Err)
				}
				return Event{}, errors.New("stream ended")
			}
			if pred(e) {
				return e, nil
			}
		case <-deadline:
			return Event{}, fmt.Errorf("no matching event within %s", timeout)
		}
	}
}
