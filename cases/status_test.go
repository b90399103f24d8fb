package cases

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/rathaus-de/rathaus/protocol"
)

func TestNextCaseStatus(t *testing.T) {
	legal := []struct {
		from   protocol.CaseStatus
		action CaseAction
		to     protocol.CaseStatus
	}{
		{protocol.CaseQueued, ActionClaim, protocol.CaseActive},
		{protocol.CaseActive, ActionAwaitCitizen, protocol.CaseAwaitingCitizen},
		{protocol.CaseAwaitingCitizen, ActionCitizenReply, protocol.CaseActive},
		{protocol.CaseActive, ActionResolve, protocol.CaseResolved},
		{protocol.CaseAwaitingCitizen, ActionResolve, protocol.CaseResolved},
		{protocol.CaseResolved, ActionClose, protocol.CaseClosed},
		{protocol.CaseQueued, ActionClose, protocol.CaseClosed},
		{protocol.CaseActive, ActionClose, protocol.CaseClosed},
		{protocol.CaseClosed, ActionReopen, protocol.CaseActive},
		{protocol.CaseResolved, ActionReopen, protocol.CaseActive},
		{protocol.CaseActive, ActionTransfer, protocol.CaseQueued},
		{protocol.CaseQueued, ActionHandOver, protocol.CaseTransferred},
		{protocol.CaseAwaitingCitizen, ActionAbandon, protocol.CaseAbandoned},
		{protocol.CaseClosed, ActionPurge, protocol.CasePurged},
		{protocol.CaseAbandoned, ActionPurge, protocol.CasePurged},
		{protocol.CaseTransferred, ActionPurge, protocol.CasePurged},
	}
	for _, tc := range legal {
		t.Run(string(tc.from)+" "+string(tc.action), func(t *testing.T) {
			got, err := NextCaseStatus(tc.from, tc.action)
			assert.NoError(t, err)
			assert.Equal(t, tc.to, got)
			assert.True(t, got.Valid())
		})
	}
	illegal := []struct {
		from   protocol.CaseStatus
		action CaseAction
		says   string
	}{
		{protocol.CaseActive, ActionClaim, "Ein Fall im Status „in Bearbeitung“ kann nicht übernommen werden. / A case that is active cannot be claimed."},
		{protocol.CaseClosed, ActionClose, "cannot be closed"},
		{protocol.CaseQueued, ActionResolve, "cannot be resolved"},
		{protocol.CaseActive, ActionPurge, "cannot be purged"},
		{protocol.CasePurged, ActionReopen, "cannot be reopened"},
		{protocol.CaseResolved, ActionCitizenReply, "cannot be answered"},
		{protocol.CaseClosed, ActionTransfer, "cannot be transferred"},
		{protocol.CaseActive, "dance", "Unbekannte Aktion \"dance\". / Unknown action."},
	}
	for _, tc := range illegal {
		t.Run("illegal "+string(tc.from)+" "+string(tc.action), func(t *testing.T) {
			_, err := NextCaseStatus(tc.from, tc.action)
			assert.True(t, errors.Is(err, ErrIllegalTransition))
			assert.ErrorContains(t, err, tc.says)
		})
	}
	// Every action leads somewhere valid, and every status but purged can
	// be left: no dead ends before the retention ends.
	for action, tr := range caseTransitions {
		assert.True(t, tr.to.Valid(), action)
		assert.Contains(t, actionVerb, action)
	}
	for status := range caseStatusNames {
		if status == protocol.CasePurged {
			continue
		}
		leaves := false
		for _, tr := range caseTransitions {
			for _, f := range tr.from {
				leaves = leaves || f == status
			}
		}
		assert.True(t, leaves, "%s has a way out", status)
	}
}

func TestFormatReference(t *testing.T) {
	assert.Equal(t, "BAU-2026-00042", FormatReference("BAU", 2026, 42))
	assert.Equal(t, "BB-2027-123456", FormatReference("BB", 2027, 123456))
}
