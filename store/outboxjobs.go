package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// JobState is where an outbox job stands.
type JobState string

// Job states.
const (
	JobPending JobState = "pending"
	JobDone    JobState = "done"
	// JobParked: failed every retry, or permanently; waits for an operator.
	JobParked JobState = "parked"
)

// Job is a durable non-Matrix effect (a webhook) of the outbox.
type Job struct {
	ID         int64
	Kind       string
	DeliveryID string
	Payload    []byte
	State      JobState
	// Attempts counts attempts started, one cut short by a crash included.
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	CreatedAt     time.Time
	FinishedAt    time.Time
}

const (
	enqueueJobQuery = `
		INSERT INTO outbox_job (kind, delivery_id, payload, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $4)
		ON CONFLICT (delivery_id) DO NOTHING`
	dueJobsQuery = `
		SELECT id, kind, delivery_id, payload, attempts, next_attempt_at, created_at
		FROM outbox_job WHERE state = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2`
	// Counted before the attempt runs: a crash during it still counts,
	// so a job that kills the process is parked instead of looping.
	startJobQuery = `
		UPDATE outbox_job SET attempts = attempts + 1 WHERE id = $1 AND state = 'pending'`
	jobDoneQuery = `
		UPDATE outbox_job SET state = 'done', payload = '', last_error = NULL, finished_at = $2 WHERE id = $1 AND state = 'pending'`
	jobRetryQuery = `
		UPDATE outbox_job SET last_error = $2, next_attempt_at = $3 WHERE id = $1 AND state = 'pending'`
	jobParkQuery = `
		UPDATE outbox_job SET state = 'parked', last_error = $2, finished_at = $3 WHERE id = $1 AND state = 'pending'`
	nextJobDueQuery = `
		SELECT MIN(next_attempt_at) FROM outbox_job WHERE state = 'pending'`
	jobStatsQuery = `
		SELECT COUNT(*), COALESCE(MIN(created_at), 0) FROM outbox_job WHERE state = 'pending'`
	parkedJobCountQuery = `
		SELECT COUNT(*) FROM outbox_job WHERE state = 'parked'`
	parkedJobsQuery = `
		SELECT id, kind, delivery_id, attempts, COALESCE(last_error, ''), created_at, COALESCE(finished_at, 0)
		FROM outbox_job WHERE state = 'parked' ORDER BY id LIMIT $1`
	requeueJobQuery = `
		UPDATE outbox_job SET state = 'pending', attempts = 0, next_attempt_at = $2, last_error = NULL, finished_at = NULL
		WHERE id = $1 AND state = 'parked'`
	requeueAllJobsQuery = `
		UPDATE outbox_job SET state = 'pending', attempts = 0, next_attempt_at = $1, last_error = NULL, finished_at = NULL
		WHERE state = 'parked'`
	pruneJobsQuery = `
		DELETE FROM outbox_job WHERE state <> 'pending' AND finished_at < $1`
)

// EnqueueJob stores a job, due now. A job with the same delivery id is not
// stored again; it reports whether this call stored it.
func (s *Store) EnqueueJob(ctx context.Context, kind, deliveryID string, payload []byte) (bool, error) {
	if kind == "" || deliveryID == "" {
		return false, errors.New("store: a job needs a kind and a delivery id")
	}
	var stored bool
	err := s.writer.do(ctx, func(ctx context.Context, tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, rebind(s.DB.Dialect, enqueueJobQuery), kind, deliveryID, string(payload), time.Now().UnixMilli())
		if err != nil {
			return err
		}
		n, _ := r.RowsAffected()
		stored = n == 1
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("failed to enqueue a job: %w", err)
	}
	return stored, nil
}

// DueJobs returns up to limit pending jobs due at now, the longest waiting
// first.
func (s *Store) DueJobs(ctx context.Context, now time.Time, limit int) ([]Job, error) {
	rows, err := s.DB.Query(ctx, dueJobsQuery, now.UnixMilli(), limit)
	if err != nil {
		return nil, fmt.Errorf("failed to query due jobs: %w", err)
	}
	defer rows.Close()
	var out []Job
	for rows.Next() {
		j := Job{State: JobPending}
		var payload string
		var next, created int64
		if err := rows.Scan(&j.ID, &j.Kind, &j.DeliveryID, &payload, &j.Attempts, &next, &created); err != nil {
			return nil, fmt.Errorf("failed to read a job: %w", err)
		}
		j.Payload, j.NextAttemptAt, j.CreatedAt = []byte(payload), time.UnixMilli(next), time.UnixMilli(created)
		out = append(out, j)
	}
	return out, rows.Err()
}

// StartJob counts an attempt of a job before it runs. It reports false if
// the job is no longer pending (an operator or another worker changed it).
func (s *Store) StartJob(ctx context.Context, id int64) (bool, error) {
	return s.jobUpdate(ctx, startJobQuery, id)
}

// FinishJob records a job's attempt: done (err == nil), retried at next,
// or parked (park).
func (s *Store) FinishJob(ctx context.Context, id int64, attemptErr error, next time.Time, park bool) error {
	now := time.Now().UnixMilli()
	var err error
	switch {
	case attemptErr == nil:
		_, err = s.jobUpdate(ctx, jobDoneQuery, id, now)
	case park:
		_, err = s.jobUpdate(ctx, jobParkQuery, id, attemptErr.Error(), now)
	default:
		_, err = s.jobUpdate(ctx, jobRetryQuery, id, attemptErr.Error(), next.UnixMilli())
	}
	return err
}

func (s *Store) jobUpdate(ctx context.Context, query string, args ...any) (bool, error) {
	var changed bool
	err := s.writer.do(ctx, func(ctx context.Context, tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, rebind(s.DB.Dialect, query), args...)
		if err != nil {
			return err
		}
		n, _ := r.RowsAffected()
		changed = n > 0
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("failed to update a job: %w", err)
	}
	return changed, nil
}

// NextJobDue is when the earliest pending job is due; zero if none is.
func (s *Store) NextJobDue(ctx context.Context) (time.Time, error) {
	var next sql.NullInt64
	if err := s.DB.QueryRow(ctx, nextJobDueQuery).Scan(&next); err != nil {
		return time.Time{}, fmt.Errorf("failed to query the next due job: %w", err)
	}
	if !next.Valid {
		return time.Time{}, nil
	}
	return time.UnixMilli(next.Int64), nil
}

// JobStats describes the outbox's backlog.
type JobStats struct {
	Pending       int
	OldestPending time.Time // zero if nothing is pending
	Parked        int
}

// JobStats counts pending and parked jobs.
func (s *Store) JobStats(ctx context.Context) (JobStats, error) {
	var st JobStats
	var oldest int64
	if err := s.DB.QueryRow(ctx, jobStatsQuery).Scan(&st.Pending, &oldest); err != nil {
		return st, fmt.Errorf("failed to count pending jobs: %w", err)
	}
	if oldest > 0 {
		st.OldestPending = time.UnixMilli(oldest)
	}
	if err := s.DB.QueryRow(ctx, parkedJobCountQuery).Scan(&st.Parked); err != nil {
		return st, fmt.Errorf("failed to count parked jobs: %w", err)
	}
	return st, nil
}

// ParkedJobs lists up to limit parked jobs, oldest first, without their
// payload.
func (s *Store) ParkedJobs(ctx context.Context, limit int) ([]Job, error) {
	rows, err := s.DB.Query(ctx, parkedJobsQuery, limit)
	if err != nil {
		return nil, fmt.Errorf("failed to list parked jobs: %w", err)
	}
	defer rows.Close()
	var out []Job
	for rows.Next() {
		j := Job{State: JobParked}
		var created, finished int64
		if err := rows.Scan(&j.ID, &j.Kind, &j.DeliveryID, &j.Attempts, &j.LastError, &created, &finished); err != nil {
			return nil, fmt.Errorf("failed to read a parked job: %w", err)
		}
		j.CreatedAt = time.UnixMilli(created)
		if finished > 0 {
			j.FinishedAt = time.UnixMilli(finished)
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// RequeueJobs gives parked jobs (by id; all if ids is empty) back to the
// outbox: no attempts, due now, the same delivery id. It returns how many
// were parked and are pending again.
func (s *Store) RequeueJobs(ctx context.Context, ids []int64) (int, error) {
	n, err := s.requeue(ctx, requeueJobQuery, requeueAllJobsQuery, ids)
	if err != nil {
		return 0, fmt.Errorf("failed to requeue parked jobs: %w", err)
	}
	return n, nil
}

// PruneJobs forgets finished (done and parked) jobs finished before
// `before`.
func (s *Store) PruneJobs(ctx context.Context, before time.Time) error {
	if _, err := s.DB.Exec(ctx, pruneJobsQuery, before.UnixMilli()); err != nil {
		return fmt.Errorf("failed to prune the outbox: %w", err)
	}
	return nil
}
