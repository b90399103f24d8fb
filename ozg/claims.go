package ozg

import (
	"fmt"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/rathaus-de/rathaus/internal/plaintext"
	"github.com/rathaus-de/rathaus/protocol"
)

// The claims of a hand-over context and their limits (docs/ozg.md has the
// table). Claims rathaus does not know are ignored; only the fields below
// are kept, and each has a length limit, so form contents have no place
// to go.
const (
	// MaxLifetime is the longest exp - iat rathaus accepts.
	MaxLifetime = 10 * time.Minute
	// ClockSkew is how far the service's clock may be off from rathaus's.
	ClockSkew = time.Minute
	// MaxStepLength bounds step, in Unicode code points.
	MaxStepLength = 80
)

var (
	leikaRegex   = regexp.MustCompile(`^[0-9]{14}$`)
	arsRegex     = regexp.MustCompile(`^[0-9]{12}$`)
	versionRegex = regexp.MustCompile(`^[A-Za-z0-9._+-]{1,32}$`)
	errCodeRegex = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,32}$`)
	jtiRegex     = regexp.MustCompile(`^[A-Za-z0-9_-]{16,64}$`)
	// uuidRegex is a FIT-Connect id: a UUID in its canonical form.
	uuidRegex = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

// Fields are what a hand-over says about the citizen's situation, the
// same whether the service signed them into a context or its backend sent
// them to the intake API: one validator (readFields) checks both.
type Fields struct {
	// Leika is the LeiKa key of the service (14 digits); it routes the case.
	Leika string
	// ARS is the Amtlicher Regionalschlüssel (12 digits), or "".
	ARS string
	// ServiceID and ServiceVersion come from the svc claim (the intake
	// API's service and service_version).
	ServiceID      string
	ServiceVersion string
	// Step is where in the service the citizen asked for help (one line).
	Step string
	// Err is the code of the error the citizen saw, or "".
	Err string
	// Lang is "de" or "en" (default "de").
	Lang string
	// Trust is the trust level of the citizen's sign-in (default none).
	Trust protocol.TrustLevel
	// FITConnect holds the submission, destination and case ids, or "".
	FITConnect protocol.FITConnectIDs
}

// Claims are the verified claims of a context.
type Claims struct {
	Fields
	IssuedAt time.Time
	Expires  time.Time
	// JTI is the context's unique id (16–64 of A-Z a-z 0-9 _ -).
	JTI string
}

// FieldError is a field of a hand-over that is missing or has the wrong
// type, form or length. Field is its name as the caller spells it
// ("leika", "svc.version" in a context, "service_version" in the intake
// API); Problem never repeats the value.
type FieldError struct {
	Field, Problem string
}

func (e *FieldError) Error() string { return e.Field + " " + e.Problem }

// fieldSource reads the string fields of a hand-over by their claim names
// ("svc.id" and "svc.version" included): v is the value, present whether
// it was given at all, ok false if it has another type. name is how the
// source spells a claim's name in errors.
type fieldSource struct {
	str  func(claim string) (v string, present, ok bool)
	name func(claim string) string
}

// readFields reads and checks the hand-over fields' forms and lengths.
func readFields(src fieldSource) (Fields, *FieldError) {
	var f Fields
	bad := func(claim, format string, args ...any) *FieldError {
		return &FieldError{Field: src.name(claim), Problem: fmt.Sprintf(format, args...)}
	}
	// text reads an optional string field and checks it against re
	// (required: it must be present).
	text := func(claim string, re *regexp.Regexp, required bool) (string, *FieldError) {
		v, present, ok := src.str(claim)
		switch {
		case !ok:
			return "", bad(claim, "must be a string")
		case !present && required:
			return "", bad(claim, "is required")
		case present && re != nil && !re.MatchString(v):
			return "", bad(claim, "has the wrong form or length")
		}
		return v, nil
	}
	var err *FieldError
	if f.ServiceID, err = text("svc.id", nil, true); err != nil {
		return f, err
	} else if f.ServiceID == "" {
		return f, bad("svc.id", "is required")
	}
	if f.ServiceVersion, err = text("svc.version", versionRegex, false); err != nil {
		return f, err
	}
	if f.Leika, err = text("leika", leikaRegex, true); err != nil {
		return f, err
	}
	if f.ARS, err = text("ars", arsRegex, false); err != nil {
		return f, err
	}
	if f.Err, err = text("err", errCodeRegex, false); err != nil {
		return f, err
	}
	for _, id := range []struct {
		claim string
		dst   *string
	}{{"submission", &f.FITConnect.Submission}, {"destination", &f.FITConnect.Destination}, {"case", &f.FITConnect.Case}} {
		if *id.dst, err = text(id.claim, uuidRegex, false); err != nil {
			return f, err
		}
	}
	step, err := text("step", nil, false)
	if err != nil {
		return f, err
	} else if utf8.RuneCountInString(step) > MaxStepLength {
		return f, bad("step", "is longer than %d characters", MaxStepLength)
	}
	// One line without control, bidi or invisible characters: it is shown
	// to the citizen and to staff.
	f.Step = plaintext.Line(step, MaxStepLength)

	lang, err := text("lang", nil, false)
	switch {
	case err != nil:
		return f, err
	case lang == "":
		f.Lang = "de"
	case lang == "de" || lang == "en":
		f.Lang = lang
	default:
		return f, bad("lang", "must be de or en")
	}
	trust, err := text("trust", nil, false)
	switch {
	case err != nil:
		return f, err
	case trust == "":
		f.Trust = protocol.TrustNone
	case protocol.TrustLevel(trust).Valid():
		f.Trust = protocol.TrustLevel(trust)
	default:
		return f, bad("trust", "must be one of none, basis, substanziell, hoch")
	}
	return f, nil
}

// parseClaims reads and checks the claims' forms and lengths; times are
// checked by the verifier. No error names a claim's value.
func parseClaims(payload []byte) (*Claims, error) {
	obj, err := decodeObject(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: claims: %w", ErrMalformed, err)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: claim "+format, append([]any{ErrMalformed}, args...)...)
	}
	svcRaw, ok := obj["svc"]
	if !ok {
		return nil, bad("svc is required")
	}
	svc, err := decodeObject(svcRaw)
	if err != nil {
		return nil, bad("svc must be an object {\"id\", \"version\"}")
	}
	src := fieldSource{
		str: func(claim string) (string, bool, bool) {
			switch claim {
			case "svc.id":
				return svc.str("id")
			case "svc.version":
				return svc.str("version")
			}
			return obj.str(claim)
		},
		name: func(claim string) string { return claim },
	}
	c := &Claims{}
	var present bool
	var fe *FieldError
	if c.Fields, fe = readFields(src); fe != nil {
		return nil, bad("%w", fe)
	}
	if c.JTI, present, ok = obj.str("jti"); !ok {
		return nil, bad("jti must be a string")
	} else if !present {
		return nil, bad("jti is required")
	} else if !jtiRegex.MatchString(c.JTI) {
		return nil, bad("jti has the wrong form or length")
	}

	var iat, exp int64
	iat, present, ok = obj.integer("iat")
	if !ok || !present {
		return nil, bad("iat must be a whole number of seconds")
	}
	exp, present, ok = obj.integer("exp")
	if !ok || !present {
		return nil, bad("exp must be a whole number of seconds")
	}
	if exp <= iat {
		return nil, bad("exp is not after iat")
	} else if exp-iat > int64(MaxLifetime/time.Second) {
		return nil, bad("exp is more than %s after iat", MaxLifetime)
	}
	c.IssuedAt, c.Expires = time.Unix(iat, 0), time.Unix(exp, 0)
	return c, nil
}
