package licensing

import (
	"context"
	"reflect"
	"testing"

	"github.com/google/uuid"
)

// viewStore is a Store that answers UserView from a fixed view and counts
// the writes the service asks of it; every other method panics (nil
// embedded interface), so a test fails loudly if the service takes a path
// it should not.
type viewStore struct {
	Store
	view    UserView
	viewErr error
	applied int
	audited []AuditRecord
}

func (s *viewStore) UserView(context.Context, UserRef) (UserView, error) { return s.view, s.viewErr }

func (s *viewStore) ApplyUserLicenses(_ context.Context, _ UserRef, _ Actor, decide func(Seats) ([]Change, error)) ([]Change, error) {
	s.applied++
	return decide(s.view.Seats)
}

func (s *viewStore) RecordAudit(_ context.Context, records []AuditRecord) error {
	s.audited = append(s.audited, records...)
	return nil
}

// TestUpdateUserLicenses_writesOnlyWhatChanges: an update is decided on the
// view first, and only one that changes something reaches the store's
// write path; NotFounds keep the API's order (customer, user, instance).
func TestUpdateUserLicenses_writesOnlyWhatChanges(t *testing.T) {
	customer, user, sku := uuid.MustParse(customerA), uuid.MustParse(userA), uuid.MustParse(skuE3)
	pi := &ProviderInstance{ID: uuid.New(), Provider: ProviderMicrosoft, Directory: DirectoryLocal}
	held := func(h bool) UserView {
		return UserView{Customer: Customer{ID: customer}, UserFound: true, Instance: pi,
			Seats: Seats{Licenses: []License{{SKUID: sku, Name: "E3", Total: 1, Consumed: 1}}, Held: map[uuid.UUID]bool{sku: h}}}
	}
	missing := func(userFound bool, instance *ProviderInstance) UserView {
		return UserView{Customer: Customer{ID: customer}, UserFound: userFound, Instance: instance}
	}
	tests := []struct {
		name     string
		view     UserView
		viewErr  error
		selected bool
		wantCode Code   // "" means success
		wantProp string // the property the refusal names
		applied  int
		audited  int
		changes  int
	}{
		{"noOp", held(true), nil, true, "", "", 0, 0, 0},
		{"refusedForSeats", held(false), nil, true, Invalid, "customerUserLicenses[0].skuId", 0, 1, 0},
		{"change", held(true), nil, false, "", "", 1, 0, 1},
		{"unknownCustomer", UserView{}, Errorf(NotFound, "no customer"), true, NotFound, "customerId", 0, 1, 0},
		{"unknownUser", missing(false, pi), nil, true, NotFound, "customerUserId", 0, 1, 0},
		{"unknownInstance", missing(true, nil), nil, true, NotFound, "providerInstanceId", 0, 1, 0},
		{"unknownUserAndInstanceNamesTheUser", missing(false, nil), nil, true, NotFound, "customerUserId", 0, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &viewStore{view: tt.view, viewErr: tt.viewErr}
			svc := NewService(st)
			p := Principal{Subject: "t", Tenant: "portal.test", Roles: []Role{RoleCSP}}
			changes, err := svc.UpdateUserLicenses(t.Context(), p, Actor{Subject: "t", CorrelationID: uuid.New()}, UpdateUserLicenses{
				CustomerID: customer, UserID: user, ProviderInstanceID: pi.ID, Selections: []Selection{{SKUID: sku, Selected: tt.selected}}})
			if got := ErrorCode(err); got != tt.wantCode {
				t.Fatalf("code %q (%v), want %q", got, err, tt.wantCode)
			}
			if tt.wantProp != "" {
				e, _ := err.(*Error)
				if e == nil || !reflect.DeepEqual(propertyNames(e), []string{tt.wantProp}) {
					t.Errorf("refusal %v names %v, want %s", err, propertyNames(e), tt.wantProp)
				}
			}
			if st.applied != tt.applied || len(st.audited) != tt.audited || len(changes) != tt.changes {
				t.Errorf("write path taken %d times, %d Failed records, %d changes; want %d, %d, %d",
					st.applied, len(st.audited), len(changes), tt.applied, tt.audited, tt.changes)
			}
			if err == nil && changes == nil {
				t.Error("a successful update returned nil changes, want an empty list")
			}
		})
	}
}
