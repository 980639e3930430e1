package approval

import (
	"context"
	"slices"
	"time"
)

// channelCheckEvery is how often the approvals channels are checked: a channel an administrator
// fixed gets its waiting cards within this time, without a restart.
const channelCheckEvery = 5 * time.Minute

// channels lists every approvals channel: the default and each policy route's.
func (s *Service) channels() []string {
	var out []string
	if s.rules().settings.ApprovalsChannel != "" {
		out = append(out, s.rules().settings.ApprovalsChannel)
	}
	for _, c := range s.rules().settings.Rules.Categories {
		for _, r := range c.Routes {
			if r.Channel != "" && !slices.Contains(out, r.Channel) {
				out = append(out, r.Channel)
			}
		}
	}
	slices.Sort(out)
	return out
}

// checkChannels makes sure cards can be posted to every approvals channel: a channel that does
// not work is logged as an error that says how to fix it; one that works gets the cards that
// waited for it.
func (s *Service) checkChannels(ctx context.Context) {
	for _, ch := range s.channels() {
		if err := s.msg.CheckChannel(ctx, ch); err != nil {
			if ctx.Err() == nil {
				s.log.Error("cannot post to an approvals channel; expenses routed there wait, pending, in reviewers' App Home", "channel", ch, "err", err)
			}
			continue
		}
		n, err := s.store.ReleaseBlocked(ctx, ch)
		if err != nil {
			s.log.Error("release blocked notices", "channel", ch, "err", err)
			continue
		}
		if n > 0 {
			s.log.Info("approvals channel works again; posting what waited", "channel", ch, "notices", n)
			s.kick()
		}
	}
}
