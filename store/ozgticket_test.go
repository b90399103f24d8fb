package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/protocol"
	"github.com/rathaus-de/rathaus/store"
)

func newTicketCase(s *store.Store, ctx context.Context, caseID protocol.CaseID, service, submission string) (*store.Case, error) {
	return s.CreateCase(ctx, store.NewCase{
		ID: caseID, Department: "BAU", Status: "queued", Ghost: id.UserID("@_rathaus_guest_" + caseID + ":hs"), Actor: "citizen",
		TicketRef: protocol.TicketID("t-" + caseID), Ticket: &store.NewTicket{ID: protocol.TicketID("t-" + caseID), Service: service, Submission: submission},
		Reference: func(year, seq int) string { return fmt.Sprintf("BAU-%d-%05d", year, seq) },
	})
}

// Every status change of a case whose ticket names a service stores its
// webhook job in the same transaction, with a delivery id that follows
// from the change; cases without a ticket or with an unverified one store
// none.
func TestTicketStatusJobs(t *testing.T) {
	eachDialect(t, func(t *testing.T, open func() *store.Store) {
		ctx := context.Background()
		s := open()
		c, err := newTicketCase(s, ctx, "c1", "bauantrag", "0b9ed7a4-8c27-4bd4-9f3c-2e0e8d8f8b1a")
		require.NoError(t, err)
		_, err = newTicketCase(s, ctx, "c2", "", "")
		require.NoError(t, err, "an unverified hand-over")
		_, err = newCase(s, ctx, "c3", "BAU")
		require.NoError(t, err)
		require.NoError(t, s.TransitionCase(ctx, "c1", "queued", "active", "claim", "@anna:hs"))
		require.NoError(t, s.TransitionCase(ctx, "c2", "queued", "active", "claim", "@anna:hs"))
		require.NoError(t, s.TransferCase(ctx, "c1", "active", "queued", "BB", "@anna:hs"))

		jobs, err := s.DueJobs(ctx, time.Now().Add(time.Minute), 10)
		require.NoError(t, err)
		require.Len(t, jobs, 3, "only c1 reports its status")
		want := []struct {
			from, to protocol.CaseStatus
			action   string
		}{{"", "queued", "open"}, {"queued", "active", "claim"}, {"active", "queued", "transfer:BB"}}
		for i, job := range jobs {
			assert.Equal(t, store.JobKindTicketStatus, job.Kind)
			assert.Equal(t, store.TicketStatusDeliveryID("c1", i+1), job.DeliveryID)
			var p store.TicketStatusJob
			require.NoError(t, json.Unmarshal(job.Payload, &p))
			assert.Equal(t, store.TicketStatusJob{CaseID: "c1", Reference: c.Reference, TicketID: "t-c1", Service: "bauantrag",
				Submission: "0b9ed7a4-8c27-4bd4-9f3c-2e0e8d8f8b1a", From: want[i].from, To: want[i].to, Action: want[i].action,
				At: p.At, Seq: i + 1}, p)
			assert.NotZero(t, p.At)
		}

		got, err := s.TicketBySubmission(ctx, "0b9ed7a4-8c27-4bd4-9f3c-2e0e8d8f8b1a")
		require.NoError(t, err)
		require.NotNil(t, got)
		assert.Equal(t, protocol.CaseID("c1"), got.CaseID)
		none, err := s.TicketBySubmission(ctx, "")
		require.NoError(t, err)
		assert.Nil(t, none, "an empty submission id names no ticket")
		require.NoError(t, s.SetTicketExternalRef(ctx, "c1", "JIRA-42"))
		require.NoError(t, s.SetTicketSubmissionStatus(ctx, "c1", "submitted"))
		require.NoError(t, s.SetTicketSubmissionStatus(ctx, "c1", "forwarded"))
		steps, err := s.SubmissionHistory(ctx, "c1")
		require.NoError(t, err)
		require.Len(t, steps, 2)
		assert.Equal(t, "submitted", steps[0].Status)
		assert.Equal(t, "forwarded", steps[1].Status)
		assert.False(t, steps[1].At.Before(steps[0].At))
		assert.ErrorIs(t, s.SetTicketSubmissionStatus(ctx, "c3", "forwarded"), store.ErrNotFound, "no ticket, no history")
		// Steps learnt in the same millisecond keep the submission's
		// course, whatever order they were stored in.
		_, err = s.DB.Exec(ctx, `INSERT INTO ozg_submission_event (case_id, status, at) VALUES
			('c2', 'accepted', 5), ('c2', 'forwarded', 5), ('c2', 'submitted', 5)`)
		require.NoError(t, err)
		steps, err = s.SubmissionHistory(ctx, "c2")
		require.NoError(t, err)
		var course []string
		for _, st := range steps {
			course = append(course, st.Status)
		}
		assert.Equal(t, []string{"submitted", "forwarded", "accepted"}, course)
		got, err = s.Ticket(ctx, "c1")
		require.NoError(t, err)
		assert.Equal(t, "JIRA-42", got.ExternalRef)
		assert.Equal(t, "forwarded", got.SubmissionStatus)
		assert.ErrorIs(t, s.SetTicketExternalRef(ctx, "c3", "X"), store.ErrNotFound)
		none, err = s.Ticket(ctx, "c3")
		require.NoError(t, err)
		assert.Nil(t, none)

		// Purging the case deletes its ticket; the purge reports nothing.
		require.NoError(t, s.TransitionCase(ctx, "c1", "queued", "closed", "close", "@anna:hs"))
		_, err = s.PurgeCase(ctx, "c1", "closed", "retention")
		require.NoError(t, err)
		none, err = s.Ticket(ctx, "c1")
		require.NoError(t, err)
		assert.Nil(t, none)
		steps, err = s.SubmissionHistory(ctx, "c1")
		require.NoError(t, err)
		assert.Empty(t, steps, "the purge deletes the submission's history")
		jobs, err = s.DueJobs(ctx, time.Now().Add(time.Minute), 10)
		require.NoError(t, err)
		assert.Len(t, jobs, 4, "open, claim, transfer, close")
	})
}
