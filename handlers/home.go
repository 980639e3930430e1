package handlers

import "context"

// homeOpened handles app_home_opened.
func (a *App) homeOpened(eventID, user, tab string) Work {
	if tab != "home" || user == "" {
		return nil
	}
	return func(ctx context.Context) { a.flow.HomeOpened(ctx, eventID, user) }
}
