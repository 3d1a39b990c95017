package licensing

import (
	"context"
	"errors"
	"log/slog"

	"github.com/google/uuid"
)

// Service applies the rules of the API to a Store: who may see what, and
// how an update changes seats.
type Service struct {
	Store Store
	// Graph is the directory of provider instances whose seats live in
	// Microsoft Graph; nil means none is configured (their operations then
	// answer Unavailable, saying so).
	Graph RemoteDirectory
	// Logger receives what the service cannot answer with, such as a
	// Failed audit record that could not be written; nil discards.
	Logger *slog.Logger
}

// NewService returns a service over the store.
func NewService(s Store) *Service { return &Service{Store: s} }

// UpdateUserLicenses is the input of the PATCH operation.
type UpdateUserLicenses struct {
	CustomerID         uuid.UUID
	UserID             uuid.UUID
	ProviderInstanceID uuid.UUID
	Selections         []Selection
}

// visibleCustomer returns the customer when it exists in the principal's
// tenant and scope; a customer out of scope is NotFound exactly like one
// that does not exist, so that its existence is not revealed.
func (s *Service) visibleCustomer(ctx context.Context, p Principal, id uuid.UUID, reseller *uuid.UUID) (Customer, error) {
	scope := p.Scope()
	c, err := s.Store.Customer(ctx, scope.Tenant, id)
	// The resellerId query parameter narrows like a reseller's own scope.
	if ErrorCode(err) == NotFound || (err == nil && (!scope.Allows(c) || !(Scope{ResellerID: reseller}).Allows(c))) {
		return Customer{}, NotVisible("customerId", "customer", id)
	}
	return c, err
}

// NotVisible is the NotFound of a kind of thing the caller cannot see,
// naming the property that named it; every directory answers with it, so
// that a hidden thing and a missing one read the same.
func NotVisible(property, kind string, id uuid.UUID) *Error {
	return Errorf(NotFound, "The %s was not found.", kind).Add(property, "No %s %s is visible to the caller.", kind, id)
}

// providerInstance returns the tenant's provider instance or NotFound
// naming the providerInstanceId property.
func (s *Service) providerInstance(ctx context.Context, p Principal, id uuid.UUID) (ProviderInstance, error) {
	pi, err := s.Store.ProviderInstance(ctx, p.Scope().Tenant, id)
	if ErrorCode(err) == NotFound {
		return ProviderInstance{}, NotVisible("providerInstanceId", "provider instance", id)
	}
	return pi, err
}

// directory returns where the instance's seats live.
func (s *Service) directory(pi ProviderInstance) (Directory, error) {
	if !pi.IsGraph() {
		return s.Store, nil
	}
	if s.Graph == nil {
		return nil, Errorf(Unavailable, "Provider instance %s keeps its seats in Microsoft Graph, which this server is not configured to reach.", pi.ID)
	}
	return s.Graph, nil
}

// graphUser checks a graph instance's link and the user: from the mirror
// (known is whether the store has it), else from Graph itself (a user
// created since the last sync).
func (s *Service) graphUser(ctx context.Context, ref UserRef, pi ProviderInstance, known bool) error {
	if _, err := s.directory(pi); err != nil {
		return err
	}
	if err := s.Graph.CheckLink(ctx, ref.Tenant, ref.CustomerID, pi); err != nil {
		return err
	}
	if known {
		return nil
	}
	_, err := s.Graph.FindUser(ctx, ref)
	return err
}

// userView reads the user's view in one store call and answers the
// NotFounds in the order the API promises: the customer (c is nil when the
// caller cannot see it), then, for a local instance, the user, then the
// instance. Under a graph instance the user is the graph directory's to
// find (graphUser), since it may exist in Graph before it is mirrored.
func (s *Service) userView(ctx context.Context, p Principal, ref UserRef) (v UserView, c *Customer, err error) {
	v, err = s.Store.UserView(ctx, ref)
	if ErrorCode(err) == NotFound || (err == nil && !p.Scope().Allows(v.Customer)) {
		return UserView{}, nil, NotVisible("customerId", "customer", ref.CustomerID)
	}
	if err != nil {
		return UserView{}, nil, err
	}
	c = &v.Customer
	switch {
	case v.Instance != nil && v.Instance.IsGraph():
		return v, c, s.graphUser(ctx, ref, *v.Instance, v.UserFound)
	case !v.UserFound:
		return v, c, NotVisible("customerUserId", "user", ref.UserID)
	case v.Instance == nil:
		return v, c, NotVisible("providerInstanceId", "provider instance", ref.ProviderInstanceID)
	}
	return v, c, nil
}

// UpdateUserLicenses assigns and removes the user's licenses as selected,
// all or nothing. Existence and visibility (NotFound) are decided before
// the business rules (Invalid), and every failing property is reported.
//
// Under a local instance the decision is first made on the seats read with
// the view: when it refuses or changes nothing, that answer is true of one
// consistent moment after the request arrived, so it is given without
// taking the store's write path. Only an update that changes something is
// decided again, by the store, under its lock on the seats.
//
// A refused update (NotFound or Invalid) changes nothing but leaves one
// Failed audit record per item with the reason, so that operators find
// attempts as well as changes. The records of a customer the caller cannot
// see carry neither its name nor its reseller, so that only the tenant's
// csp callers see them.
func (s *Service) UpdateUserLicenses(ctx context.Context, p Principal, actor Actor, u UpdateUserLicenses) ([]Change, error) {
	if err := CheckSize(u.Selections); err != nil {
		return nil, err
	}
	ref := UserRef{Tenant: p.Scope().Tenant, CustomerID: u.CustomerID, UserID: u.UserID, ProviderInstanceID: u.ProviderInstanceID}
	v, c, err := s.userView(ctx, p, ref)
	if err != nil {
		return nil, s.refused(ctx, p, actor, u, c, err)
	}
	pi := *v.Instance
	decide := Decide(pi, u.Selections)
	dir, err := s.directory(pi)
	if err != nil {
		return nil, err
	}
	if !pi.IsGraph() {
		changes, err := decide(v.Seats)
		if err != nil {
			return nil, s.refused(ctx, p, actor, u, c, err)
		}
		if len(changes) == 0 {
			return []Change{}, nil
		}
	}
	changes, err := dir.ApplyUserLicenses(ctx, ref, actor, decide)
	var sr *SKURefusal
	if errors.As(err, &sr) {
		err = refusedItems(u.Selections, sr, err)
	}
	if err != nil {
		return nil, s.refused(ctx, p, actor, u, c, err)
	}
	return changes, nil
}

// refusedItems names the items carrying the SKUs a remote directory
// refused, keeping the error's audited mark.
func refusedItems(want []Selection, sr *SKURefusal, err error) error {
	e := Errorf(Invalid, "The user's licenses were not updated; nothing was changed.")
	for i, sel := range want {
		for _, id := range sr.SKUs {
			if sel.SKUID == id {
				e.Add(itemProperty(i), "%s", sr.Reason)
			}
		}
	}
	if len(e.Properties) == 0 {
		e.Add("customerUserLicenses", "%s", sr.Reason)
	}
	if IsAudited(err) {
		return Audited(e)
	}
	return e
}

// refused records the Failed audit records of a refused update and
// returns the refusal. Only refusals are recorded (NotFound, Invalid):
// after an outage or an internal error the outcome of the update is the
// store's to tell, not ours. A failure to write the records is logged;
// the caller still learns why the update was refused.
func (s *Service) refused(ctx context.Context, p Principal, actor Actor, u UpdateUserLicenses, c *Customer, refusal error) error {
	var de *Error
	if code := ErrorCode(refusal); code != NotFound && code != Invalid || !asError(refusal, &de) {
		return refusal
	}
	if IsAudited(refusal) {
		return de // the directory has recorded this refusal itself
	}
	records := FailedRecords(p.Scope().Tenant, actor, u, c, de)
	if err := s.Store.RecordAudit(ctx, records); err != nil && s.Logger != nil {
		s.Logger.LogAttrs(ctx, slog.LevelError, "writing the Failed audit records of a refused update",
			slog.String("correlation_id", actor.CorrelationID.String()), slog.String("error", err.Error()))
	}
	return refusal
}

// CustomerLicenses returns the customer's licenses under the provider
// instance. A reseller filter that the customer does not match is NotFound.
func (s *Service) CustomerLicenses(ctx context.Context, p Principal, customerID, providerInstanceID uuid.UUID, reseller *uuid.UUID) ([]License, error) {
	if _, err := s.visibleCustomer(ctx, p, customerID, reseller); err != nil {
		return nil, err
	}
	pi, err := s.providerInstance(ctx, p, providerInstanceID)
	if err != nil {
		return nil, err
	}
	dir, err := s.directory(pi)
	if err != nil {
		return nil, err
	}
	if pi.IsGraph() {
		if err := s.Graph.CheckLink(ctx, p.Scope().Tenant, customerID, pi); err != nil {
			return nil, err
		}
	}
	return dir.Licenses(ctx, p.Scope().Tenant, customerID, providerInstanceID)
}

// UserLicenses returns the customer's licenses under the provider instance,
// each marked Selected when the user holds it.
func (s *Service) UserLicenses(ctx context.Context, p Principal, ref UserRef) ([]UserLicense, error) {
	ref.Tenant = p.Scope().Tenant
	v, _, err := s.userView(ctx, p, ref)
	if err != nil {
		return nil, err
	}
	seats := v.Seats
	if v.Instance.IsGraph() {
		if seats.Licenses, err = s.Graph.Licenses(ctx, ref.Tenant, ref.CustomerID, ref.ProviderInstanceID); err != nil {
			return nil, err
		}
		if seats.Held, err = s.Graph.HeldSKUs(ctx, ref); err != nil {
			return nil, err
		}
	}
	out := make([]UserLicense, len(seats.Licenses))
	for i, l := range seats.Licenses {
		out[i] = UserLicense{License: l, Selected: seats.Held[l.SKUID]}
	}
	return out, nil
}

// Users returns one page of the customer's users.
func (s *Service) Users(ctx context.Context, p Principal, customerID, providerInstanceID uuid.UUID, reseller *uuid.UUID, q UserQuery) (UserPage, error) {
	if _, err := s.visibleCustomer(ctx, p, customerID, reseller); err != nil {
		return UserPage{}, err
	}
	pi, err := s.providerInstance(ctx, p, providerInstanceID)
	if err != nil {
		return UserPage{}, err
	}
	if pi.IsGraph() {
		// The mirror serves the list; the link must exist.
		if _, err := s.directory(pi); err != nil {
			return UserPage{}, err
		}
		if err := s.Graph.CheckLink(ctx, p.Scope().Tenant, customerID, pi); err != nil {
			return UserPage{}, err
		}
	}
	return s.Store.Users(ctx, p.Scope().Tenant, customerID, q)
}

// AuditRecords returns one page of the audit records the principal may see.
func (s *Service) AuditRecords(ctx context.Context, p Principal, q AuditQuery) (AuditPage, error) {
	q.Scope = p.Scope()
	return s.Store.AuditRecords(ctx, q)
}
