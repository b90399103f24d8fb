package guestchat

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/rs/zerolog"

	"github.com/rathaus-de/rathaus/cases"
	"github.com/rathaus-de/rathaus/httpapi"
	"github.com/rathaus-de/rathaus/protocol"
)

// Stream timing.
const (
	streamBatch    = 200
	pingEvery      = 15 * time.Second
	refreshEvery   = 5 * time.Second // queue position, idle deadline, status
	reconnectDelay = 2000            // ms, sent as the SSE retry field
	// streamWriteTimeout is how long one write may block on a client that
	// reads nothing before the stream ends and gives up its slot. The
	// listener has no WriteTimeout, which would end every stream.
	streamWriteTimeout = 2 * pingEvery
)

// sseWriter writes Server-Sent Events.
type sseWriter struct {
	w  http.ResponseWriter
	f  http.Flusher
	rc *http.ResponseController
}

func (s *sseWriter) event(name string, id int64, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	// Each event may block streamWriteTimeout, however long a replay is.
	_ = s.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	if id > 0 {
		_, err = fmt.Fprintf(s.w, "event: %s\nid: %d\ndata: %s\n\n", name, id, b)
	} else {
		_, err = fmt.Fprintf(s.w, "event: %s\ndata: %s\n\n", name, b)
	}
	return err
}

// stream is the live stream of a case: stored timeline rows after the
// client's last id (Last-Event-ID or ?after=), then new ones as they come,
// plus the ephemeral state. Streams are bounded per session, per address
// and in total (openStream).
func (s *Server) stream(w http.ResponseWriter, r *http.Request, gs *Session, c *cases.Case) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		s.internal(w, r, fmt.Errorf("response writer cannot flush"))
		return
	}
	slot, apiErr := s.openStream(r, gs)
	if apiErr != nil {
		httpapi.WriteError(w, apiErr)
		return
	}
	defer slot.release()
	// A client that reads nothing must not hold its slot for ever; the
	// deadline is moved on before every write and lifted at the end, as
	// the connection may serve further requests.
	rc := http.NewResponseController(w)
	defer func() { _ = rc.SetWriteDeadline(time.Time{}) }()
	after := int64(0)
	for _, v := range []string{r.Header.Get("Last-Event-ID"), r.URL.Query().Get("after")} {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > after {
			after = n
		}
	}
	ctx := r.Context()
	// Subscribe before the first read, so nothing stored in between is
	// missed.
	wake, unsubscribe := s.hub.subscribe(c.ID)
	defer unsubscribe()

	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	out := &sseWriter{w: w, f: flusher, rc: rc}
	_ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	if _, err := fmt.Fprintf(w, "retry: %d\n\n", reconnectDelay); err != nil {
		return
	}
	st := streamState{typing: false, readSeq: 0, queue: -1}
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	refresh := time.NewTicker(refreshEvery)
	defer refresh.Stop()
	for {
		var err error
		_ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
		if after, err = s.sendStored(ctx, out, c.ID, after); err != nil {
			if ctx.Err() == nil {
				zerolog.Ctx(ctx).Debug().Err(err).Msg("Guest stream ended")
			}
			return
		}
		if err = s.sendEphemeral(ctx, out, c.ID, &st); err != nil {
			return
		}
		flusher.Flush()
		select {
		case <-ctx.Done():
			return
		case <-s.done:
			return
		case <-slot.replaced:
			return
		case <-wake:
		case <-refresh.C:
		case <-ping.C:
			_ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
			if _, err = fmt.Fprint(w, ": ping\n\n"); err != nil {
				return
			}
		}
	}
}

// streamState is what a stream last told its client of the ephemeral
// state, so only changes are sent.
type streamState struct {
	typing    bool
	readSeq   int64
	queue     int
	abandonAt time.Time
	video     int64
}

// sendStored writes the stored rows after `after` and returns the last
// seq written.
func (s *Server) sendStored(ctx context.Context, out *sseWriter, caseID protocol.CaseID, after int64) (int64, error) {
	for {
		events, err := s.cases.Timeline(ctx, caseID, after, streamBatch)
		if err != nil {
			return after, err
		}
		for _, e := range events {
			name, data, err := s.eventJSON(ctx, caseID, e)
			if err != nil {
				return after, err
			}
			if err = out.event(name, e.Seq, data); err != nil {
				return after, err
			}
			after = e.Seq
		}
		if len(events) < streamBatch {
			return after, nil
		}
	}
}

// eventJSON is the SSE event name and data of a stored row.
func (s *Server) eventJSON(ctx context.Context, caseID protocol.CaseID, e cases.TimelineEntry) (string, any, error) {
	switch e.Kind {
	case cases.EntryStatus:
		return "status", statusEventJSON{Seq: e.Seq, Status: protocol.CaseStatus(e.Body), Open: protocol.CaseStatus(e.Body).Open(), TS: e.TS.UTC()}, nil
	case cases.EntryStaffJoined:
		return "staff_joined", staffJoinedEventJSON{Seq: e.Seq, Team: e.Body, TS: e.TS.UTC()}, nil
	case cases.EntrySystem:
		return "notice", noticeEventJSON{Seq: e.Seq, Notice: e.Body, TS: e.TS.UTC()}, nil
	case cases.EntryTransferred:
		return "notice", noticeEventJSON{Seq: e.Seq, Notice: protocol.NoticeCaseTransferred, Team: e.Body, TS: e.TS.UTC()}, nil
	case cases.EntryEdit, cases.EntryRedaction:
		// The target's current state, not the change: a page that missed
		// the edit before a redaction shows the redaction either way.
		target, err := s.cases.TimelineEntry(ctx, caseID, e.TargetSeq)
		if err != nil {
			return "", nil, err
		}
		if target == nil {
			target = &cases.TimelineEntry{Seq: e.TargetSeq, Kind: cases.EntryRedacted, Origin: cases.OriginSystem, TS: e.TS}
		}
		return "update", updateJSON{Seq: e.Seq, Message: messageOf(caseID, *target)}, nil
	}
	return "message", messageOf(caseID, e), nil
}

// messageOf is the JSON of a message row.
func messageOf(caseID protocol.CaseID, e cases.TimelineEntry) messageJSON {
	m := messageJSON{Seq: e.Seq, From: e.Origin, Kind: e.Kind, Body: e.Body, TxnID: e.TxnID, TS: e.TS.UTC()}
	if e.MediaURI != "" {
		m.Attachment = &attachmentJSON{URL: fmt.Sprintf("%scases/%s/media/%d", APIPrefix, caseID, e.Seq),
			Name: cleanFileName(e.MediaName, e.MediaType), Type: e.MediaType, Size: e.MediaSize}
	}
	if !e.EditedAt.IsZero() {
		at := e.EditedAt.UTC()
		m.EditedAt = &at
	}
	return m
}

// sendEphemeral writes typing, read marker, a change in the video call,
// queue position and idle deadline when they changed.
func (s *Server) sendEphemeral(ctx context.Context, out *sseWriter, caseID protocol.CaseID, st *streamState) error {
	typing, readSeq := s.hub.ephemeral(caseID, time.Now())
	if typing != st.typing {
		st.typing = typing
		if err := out.event("typing", 0, typingEventJSON{Typing: typing}); err != nil {
			return err
		}
	}
	if readSeq != st.readSeq {
		st.readSeq = readSeq
		if err := out.event("read", 0, readEventJSON{Seq: readSeq}); err != nil {
			return err
		}
	}
	if v := s.hub.videoVersion(caseID); v != st.video {
		st.video = v
		if err := out.event("video", 0, videoEventJSON{}); err != nil {
			return err
		}
	}
	c, err := s.cases.Case(ctx, caseID)
	if err != nil || c == nil {
		return err
	}
	queue := 0
	if c.Status == protocol.CaseQueued {
		if queue, err = s.cases.QueuePosition(ctx, caseID); err != nil {
			return err
		}
	}
	if queue != st.queue {
		st.queue = queue
		if err = out.event("queue", 0, queueEventJSON{Position: queue}); err != nil {
			return err
		}
	}
	if c.Status.Open() {
		if at := s.abandonAt(c); !at.Equal(st.abandonAt) {
			st.abandonAt = at
			if err = out.event("idle", 0, idleEventJSON{AbandonAt: at}); err != nil {
				return err
			}
		}
	}
	return nil
}
