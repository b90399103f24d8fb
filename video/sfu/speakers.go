package sfu

import (
	"slices"
	"sync"
	"time"

	"github.com/rathaus-de/rathaus/video/signal"
)

// Active speaker detection from the audio level header extension (RFC
// 6464): a level is -dBov, 0 the loudest, 127 silence. A participant is
// speaking when, over the last window, enough packets were voiced and
// louder than the threshold; the loudest is reported first.
const (
	speakerWindow    = 500 * time.Millisecond
	speakerThreshold = 60 // -60 dBov and louder counts
	speakerMinShare  = 0.3
)

type speakerSample struct {
	sum, voiced, total int
}

type speakers struct {
	room *Room

	mu      sync.Mutex
	samples map[*Participant]*speakerSample
	since   time.Time
	active  []string
	// recent are the participants who spoke, the latest first.
	recent []string
}

func newSpeakers(r *Room) *speakers {
	return &speakers{room: r, samples: map[*Participant]*speakerSample{}}
}

func (s *speakers) observe(p *Participant, level uint8, voice bool, _ time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	x := s.samples[p]
	if x == nil {
		x = &speakerSample{}
		s.samples[p] = x
	}
	x.total++
	if level <= speakerThreshold {
		x.voiced++
		x.sum += int(level)
	}
	_ = voice // the V flag is optional and Chrome does not set it reliably
}

func (s *speakers) forget(p *Participant) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.samples, p)
	s.recent = slices.DeleteFunc(s.recent, func(x string) bool { return x == p.ID })
}

// update closes a window: if the set or order of speakers changed, every
// participant hears of it, and the hook learns the loudest.
func (s *speakers) update(now time.Time) {
	s.mu.Lock()
	if now.Sub(s.since) < speakerWindow {
		s.mu.Unlock()
		return
	}
	s.since = now
	type cand struct {
		p    *Participant
		mean int
	}
	var cs []cand
	for p, x := range s.samples {
		if x.total > 0 && float64(x.voiced)/float64(x.total) >= speakerMinShare {
			cs = append(cs, cand{p, x.sum / x.voiced})
		}
		*x = speakerSample{}
	}
	slices.SortFunc(cs, func(a, b cand) int { return a.mean - b.mean })
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.p.ID
	}
	changed := !slices.Equal(ids, s.active)
	s.noteSpeakers(ids)
	loudestChanged := len(ids) > 0 && (len(s.active) == 0 || s.active[0] != ids[0])
	s.active = ids
	s.mu.Unlock()
	if !changed {
		return
	}
	s.room.Broadcast(signal.Message{Type: signal.TypeSpeakers, Speakers: ids}, nil)
	if loudestChanged && s.room.hooks.Speaking != nil {
		s.room.hooks.Speaking(cs[0].p)
	}
}

// Active lists the ids of the active speakers, loudest first.
func (r *Room) Active() []string {
	r.speakers.mu.Lock()
	defer r.speakers.mu.Unlock()
	return slices.Clone(r.speakers.active)
}
