package fitconnect_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/ozg/fitconnect"
)

// The examples of FIT-Connect's documentation ("Callbacks", details/
// callbacks.mdx in git.fitko.de/fit-connect/docs): its example secret,
// and two callbacks sent at 1672527599 with their HMACs.
var (
	docSecret    = []byte("insecure_unsafe_qHScgrg_kP-R31jHUwp3GkVkGJolvBchz65b74Lzue0")
	docTimestamp = "1672527599"
	docSentAt    = time.Unix(1672527599, 0)
	docVectors   = []struct{ body, hmac string }{
		{
			`{"type":"https://schema.fitko.de/fit-connect/submission-api/callbacks/new-submissions","submissionIds":["f39ab143-d91a-474a-b69f-b00f1a1873c2"]}`,
			"798cd0edb70c08e5b32aa8a18cbbc8ff6b3078c51af6d011ff4e32e470c746234fc4314821fe5185264b029e962bd37de33f3b9fc5f1a93c40ce6672845e90df",
		},
		{
			`{"type":"https://schema.fitko.de/fit-connect/submission-api/callbacks/new-submissions","submissionIds":["f39ab143-d91a-474a-b69f-b00f1a1873c2"],"submissions":[{"destinationId":"d12caea8-f372-4eb1-b102-b0a228253a11","submissionId":"f39ab143-d91a-474a-b69f-b00f1a1873c2","caseId":"9eec7d3e-dc66-4f82-9f52-1520bf96a32e"}]}`,
			"2056b372b5bcec06d8f11ab79b84b42d6cbe1c8e1178cdfa36e4385dcf717758aaa7599f417d9ec3e079087884f4fd59680bf713621383e2d4414ef74fb10df3",
		},
	}
)

func TestDocumentedVectorsVerify(t *testing.T) {
	for i, v := range docVectors {
		require.NoError(t, fitconnect.Verify(docSecret, docTimestamp, v.hmac, []byte(v.body), docSentAt.Add(time.Minute)), "vector %d", i)
		// Hex is compared as bytes: upper case is the same HMAC.
		require.NoError(t, fitconnect.Verify(docSecret, docTimestamp, strings.ToUpper(v.hmac), []byte(v.body), docSentAt), "vector %d", i)
		ts, auth := fitconnect.Sign(docSecret, docSentAt, []byte(v.body))
		assert.Equal(t, docTimestamp, ts)
		assert.Equal(t, v.hmac, auth, "Sign gives the documented HMAC")
	}
	c, err := fitconnect.Parse([]byte(docVectors[1].body))
	require.NoError(t, err)
	assert.Equal(t, "https://schema.fitko.de/fit-connect/submission-api/callbacks/new-submissions", c.Type)
	require.Len(t, c.Submissions, 1)
	assert.Equal(t, fitconnect.Submission{DestinationID: "d12caea8-f372-4eb1-b102-b0a228253a11",
		SubmissionID: "f39ab143-d91a-474a-b69f-b00f1a1873c2", CaseID: "9eec7d3e-dc66-4f82-9f52-1520bf96a32e"}, c.Submissions[0])
	old, err := fitconnect.Parse([]byte(docVectors[0].body))
	require.NoError(t, err)
	assert.Equal(t, []fitconnect.Submission{{SubmissionID: "f39ab143-d91a-474a-b69f-b00f1a1873c2"}}, old.Submissions,
		"the deprecated list is read when the new one is missing")
}

// Acceptance 5 of issue 13: a stale timestamp, a changed body and a wrong
// secret are refused; so are missing, malformed and future headers.
func TestBadCallbacksAreRefused(t *testing.T) {
	v := docVectors[1]
	body := []byte(v.body)
	now := docSentAt.Add(time.Minute)
	for _, tc := range []struct {
		name            string
		secret          []byte
		timestamp, auth string
		body            []byte
		now             time.Time
		want            error
	}{
		{"stale timestamp", docSecret, docTimestamp, v.hmac, body, docSentAt.Add(5*time.Minute + time.Second), fitconnect.ErrStale},
		{"timestamp from the future", docSecret, docTimestamp, v.hmac, body, docSentAt.Add(-6 * time.Minute), fitconnect.ErrStale},
		{"changed body", docSecret, docTimestamp, v.hmac, []byte(strings.Replace(v.body, "f39ab143", "f39ab144", 1)), now, fitconnect.ErrBadSignature},
		{"body with a trailing newline", docSecret, docTimestamp, v.hmac, append(body, '\n'), now, fitconnect.ErrBadSignature},
		{"wrong secret", []byte("insecure_unsafe_qHScgrg_kP-R31jHUwp3GkVkGJolvBchz65b74Lzue1"), docTimestamp, v.hmac, body, now, fitconnect.ErrBadSignature},
		{"timestamp changed (signature over the old one)", docSecret, "1672527600", v.hmac, body, now, fitconnect.ErrBadSignature},
		{"truncated hmac", docSecret, docTimestamp, v.hmac[:64], body, now, fitconnect.ErrBadSignature},
		{"base64 instead of hex", docSecret, docTimestamp, "IFazcrW87AbY8Rq3m4S0LWy+HI4ReM3" + "6NuQ4Xc9xd1eqp1mfQX2ewOB5CHiE9P1ZaAv3E2ITg+LUQU73T7EN8w==", body, now, fitconnect.ErrBadSignature},
		{"missing authentication", docSecret, docTimestamp, "", body, now, fitconnect.ErrMissingHeader},
		{"missing timestamp", docSecret, "", v.hmac, body, now, fitconnect.ErrMissingHeader},
		{"timestamp in milliseconds", docSecret, "1672527599000", v.hmac, body, now, fitconnect.ErrStale},
		{"timestamp not a number", docSecret, "2023-01-01T00:00:00Z", v.hmac, body, now, fitconnect.ErrBadTimestamp},
		{"short secret", []byte("too short"), docTimestamp, v.hmac, body, now, fitconnect.ErrShortSecret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.ErrorIs(t, fitconnect.Verify(tc.secret, tc.timestamp, tc.auth, tc.body, tc.now), tc.want)
		})
	}
}
