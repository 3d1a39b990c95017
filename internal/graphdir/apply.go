package graphdir

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/google/uuid"

	"github.com/cloudcockpit-oss/userlicenses/internal/graph"
	"github.com/cloudcockpit-oss/userlicenses/internal/licensing"
)

// state is what Graph holds of the customer and the user now.
type state struct {
	skus []graph.SubscribedSku
	user graph.User
}

func (s state) seats() licensing.Seats {
	return licensing.Seats{Licenses: Licenses(s.skus), Held: held(s.user)}
}

func (d *Directory) fresh(ctx context.Context, c *graph.Tenant, link licensing.GraphLink, user uuid.UUID) (state, error) {
	skus, err := d.subscribedSkus(ctx, c, link, true)
	if err != nil {
		return state{}, err
	}
	u, err := c.User(ctx, user)
	if err != nil {
		return state{}, d.graphError(ctx, "reading the user", err, user)
	}
	return state{skus: skus, user: u}, nil
}

// ApplyUserLicenses implements licensing.Directory under the remote
// contract (see licensing.RemoteDirectory): decide on state read from
// Graph now, write the changes' audit records Processing, make exactly one
// assignLicense call holding only what changes (none when nothing does),
// then record Succeded or Failed. Graph applies the call all or nothing and
// stays the authority on seats: when it refuses for lack of a seat (another
// admin took it in between), the decision is made again on what Graph
// holds then, and its answer names the SKUs.
func (d *Directory) ApplyUserLicenses(ctx context.Context, ref licensing.UserRef, actor licensing.Actor, decide func(licensing.Seats) ([]licensing.Change, error)) ([]licensing.Change, error) {
	link, c, err := d.open(ctx, ref.Tenant, ref.CustomerID, ref.ProviderInstanceID)
	if err != nil {
		return nil, err
	}
	gctx, cancel := d.budget(ctx, actor.CorrelationID)
	defer cancel()
	st, err := d.fresh(gctx, c, link, ref.UserID)
	if err != nil {
		return nil, err
	}
	seats := st.seats()
	changes, err := decide(seats)
	if err != nil {
		return nil, err
	}
	if len(changes) == 0 {
		return nil, nil // nothing changes: no call, no record
	}
	if changes, err = licensing.CheckChanges(seats, changes); err != nil {
		return nil, err
	}
	var add, remove []uuid.UUID
	for _, ch := range changes {
		if ch.Assign {
			add = append(add, ch.SKUID)
		} else {
			remove = append(remove, ch.SKUID)
		}
	}
	app := link.Instance.Graph
	setLocation := ""
	if len(add) > 0 && (st.user.UsageLocation == nil || *st.user.UsageLocation == "") {
		if app.DefaultUsageLocation == "" {
			return nil, licensing.Errorf(licensing.Invalid, "The user's licenses were not updated; nothing was changed.").Add("customerUserId",
				"User %s has no usage location, which Microsoft requires before any license is assigned: set the user's usage location (a two-letter country code) in Microsoft 365, or set defaultUsageLocation on the provider instance.", ref.UserID)
		}
		setLocation = app.DefaultUsageLocation
	}

	records := d.processing(link, ref, actor, changes)
	if err := d.cfg.Mirror.RecordAudit(ctx, records); err != nil {
		return nil, err // nothing was sent to Graph
	}
	ids := make([]uuid.UUID, len(records))
	for i, r := range records {
		ids[i] = r.ID
	}
	note := ""
	if setLocation != "" {
		if err := c.SetUsageLocation(gctx, ref.UserID, setLocation); err != nil {
			gerr := d.graphError(gctx, "setting the user's usage location", err, ref.UserID)
			d.finish(ctx, link, ids, licensing.StatusFailed, "Setting the default usage location failed: "+reason(err))
			return nil, licensing.Audited(gerr)
		}
		note = fmt.Sprintf("The user had no usage location; it was set to %s (the provider instance's defaultUsageLocation).", setLocation)
	}
	_, err = c.AssignLicense(gctx, ref.UserID, add, remove)
	if err != nil {
		return d.refused(ctx, gctx, c, link, ref, ids, changes, decide, err)
	}
	d.forget(link)
	d.finish(ctx, link, ids, licensing.StatusSucceeded, note)
	// Graph's answer is the user without assignedLicenses (not a default
	// property): the mirror takes what held before plus the changes.
	after := make(map[uuid.UUID]bool, len(seats.Held)+len(changes))
	for sku, on := range seats.Held { // a copy: the decision's input stays as it saw it
		after[sku] = on
	}
	for _, ch := range changes {
		after[ch.SKUID] = ch.Assign
	}
	d.mirrorUser(ctx, link, st.user, after, setLocation)
	return changes, nil
}

// refused handles a failed assignLicense: it records the outcome and
// returns the API's answer.
func (d *Directory) refused(ctx, gctx context.Context, c *graph.Tenant, link licensing.GraphLink, ref licensing.UserRef, ids []uuid.UUID,
	changes []licensing.Change, decide func(licensing.Seats) ([]licensing.Change, error), err error) ([]licensing.Change, error) {
	var ge *graph.Error
	errors.As(err, &ge)
	switch {
	case ge != nil && ge.Status == http.StatusBadRequest:
		// Graph refused the change (nothing applied). Why is read from
		// Graph's state, not its message: a seat gone since our decision
		// shows in a fresh decision; otherwise the SKUs' service plans
		// conflict or depend on others, in Graph's words.
		if st, ferr := d.fresh(gctx, c, link, ref.UserID); ferr == nil {
			if _, derr := decide(st.seats()); derr != nil {
				d.finish(ctx, link, ids, licensing.StatusFailed, "Microsoft Graph refused: "+derr.Error())
				return nil, licensing.Audited(derr)
			}
		}
		var skus []uuid.UUID
		for _, ch := range changes {
			if ch.Assign {
				skus = append(skus, ch.SKUID)
			}
		}
		if len(skus) == 0 {
			for _, ch := range changes {
				skus = append(skus, ch.SKUID)
			}
		}
		msg := fmt.Sprintf("Microsoft Graph refused the change (%s): %s", ge.Code, ge.Message)
		d.finish(ctx, link, ids, licensing.StatusFailed, msg)
		return nil, licensing.Audited(&licensing.SKURefusal{SKUs: skus, Reason: msg})
	case ge != nil && ge.Status == http.StatusNotFound:
		d.finish(ctx, link, ids, licensing.StatusFailed, "Microsoft Graph does not know the user ("+ge.Code+").")
		return nil, licensing.Audited(licensing.NotVisible("customerUserId", "user", ref.UserID))
	case ge != nil && !ge.Transient() && ge.Status != http.StatusGatewayTimeout:
		d.finish(ctx, link, ids, licensing.StatusFailed, reason(err))
		return nil, licensing.Audited(d.graphError(gctx, "assigning licenses", err, ref.UserID))
	}
	// Throttled past the budget, unreachable or timed out: the change may
	// or may not have been applied. Graph's state says which; when it
	// cannot be read either, the records stay Processing for the next
	// sync to resolve.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.cfg.Timeout/4)
	defer cancel()
	if u, rerr := c.User(graph.WithClientRequestID(rctx, uuid.Nil), ref.UserID); rerr == nil {
		h := held(u)
		applied, untouched := true, true
		for _, ch := range changes {
			applied = applied && h[ch.SKUID] == ch.Assign
			untouched = untouched && h[ch.SKUID] != ch.Assign
		}
		switch {
		case applied:
			d.forget(link)
			d.finish(ctx, link, ids, licensing.StatusSucceeded, "Graph's answer was lost; reading the user showed the change applied.")
			d.mirrorUser(ctx, link, u, h, "")
			return changes, nil
		case untouched:
			d.finish(ctx, link, ids, licensing.StatusFailed, reason(err))
			return nil, licensing.Audited(d.graphError(gctx, "assigning licenses", err, ref.UserID))
		}
	}
	return nil, d.graphError(gctx, "assigning licenses", err, ref.UserID)
}

// reason is a Graph failure as an audit reason: status and code, never
// a token or secret.
func reason(err error) string {
	var ge *graph.Error
	if errors.As(err, &ge) {
		if ge.Message != "" {
			return fmt.Sprintf("Microsoft Graph answered %d %s: %s", ge.Status, ge.Code, ge.Message)
		}
		return fmt.Sprintf("Microsoft Graph answered %d %s.", ge.Status, ge.Code)
	}
	return "Microsoft Graph could not be reached."
}

// processing returns the Processing records of the changes, with ids we
// choose so that they can be moved on after the Graph call.
func (d *Directory) processing(link licensing.GraphLink, ref licensing.UserRef, actor licensing.Actor, changes []licensing.Change) []licensing.AuditRecord {
	out := make([]licensing.AuditRecord, len(changes))
	for i, ch := range changes {
		id, err := uuid.NewV7()
		if err != nil {
			id = uuid.New()
		}
		out[i] = licensing.AuditRecord{ID: id, CreatedAt: d.clock(), Tenant: ref.Tenant, Actor: actor.Subject, CorrelationID: actor.CorrelationID,
			Operation: ch.Operation(), Status: licensing.StatusProcessing, CustomerID: ref.CustomerID, CustomerName: link.Customer.Name,
			ResellerID: link.Customer.ResellerID, ResellerName: link.Customer.ResellerName, UserID: ref.UserID,
			ProviderInstanceID: ref.ProviderInstanceID, SKUID: ch.SKUID, SKUName: ch.SKUName}
	}
	return out
}

// finish moves the records on. A failure to do so is logged: Graph's
// outcome stands, and the next sync resolves records left Processing.
func (d *Directory) finish(ctx context.Context, link licensing.GraphLink, ids []uuid.UUID, status licensing.Status, why string) {
	if err := d.cfg.Mirror.SetAuditStatus(context.WithoutCancel(ctx), link.Tenant, ids, status, why); err != nil {
		d.cfg.Logger.LogAttrs(ctx, slog.LevelError, "recording the outcome of a Graph update; the next sync resolves it",
			slog.String("status", string(status)), slog.String("error", err.Error()))
	}
}

// mirrorUser keeps the mirror in step with a change Graph applied.
func (d *Directory) mirrorUser(ctx context.Context, link licensing.GraphLink, u graph.User, h map[uuid.UUID]bool, location string) {
	m := mirrored(u)
	m.SKUs = m.SKUs[:0]
	for sku, on := range h {
		if on {
			m.SKUs = append(m.SKUs, sku)
		}
	}
	if location != "" {
		m.UsageLocation = location
	}
	if err := d.cfg.Mirror.MirrorUsers(context.WithoutCancel(ctx), link, []licensing.MirroredUser{m}, nil); err != nil {
		d.cfg.Logger.LogAttrs(ctx, slog.LevelError, "mirroring a user after a Graph update; the next sync repairs it", slog.String("error", err.Error()))
	}
}
