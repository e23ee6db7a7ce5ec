package main

import "context"

// wire connects the store to the other parts once the database is open.
func (a *app) wire(ctx context.Context) error {
	return nil
}
