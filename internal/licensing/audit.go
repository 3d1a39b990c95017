package licensing

import "strings"

// FailedRecords returns the Failed audit records of a refused update: one
// per item, with the operation the item asked for and the reason it was
// refused. An item's reason is its own property error when it has one
// (customerUserLicenses[i].skuId); otherwise the request's (e.g. an
// unknown user), or, when only other items failed, that it was not applied
// because the update is all or nothing. c is the customer when the caller
// may see it; without it the records name no customer name or reseller.
func FailedRecords(tenant string, actor Actor, u UpdateUserLicenses, c *Customer, refusal *Error) []AuditRecord {
	var general []string
	items := make(map[string]bool, len(refusal.Properties))
	for _, p := range refusal.Properties {
		if strings.HasPrefix(p.Property, "customerUserLicenses[") {
			items[p.Property] = true
			continue
		}
		general = append(general, p.Property+": "+strings.Join(p.Messages, " "))
	}
	byProperty := make(map[string][]string, len(refusal.Properties))
	for _, p := range refusal.Properties {
		byProperty[p.Property] = p.Messages
	}
	base := AuditRecord{
		Tenant: tenant, Actor: actor.Subject, CorrelationID: actor.CorrelationID, Status: StatusFailed,
		CustomerID: u.CustomerID, UserID: u.UserID, ProviderInstanceID: u.ProviderInstanceID,
	}
	if c != nil {
		base.CustomerName, base.ResellerID, base.ResellerName = c.Name, c.ResellerID, c.ResellerName
	}
	out := make([]AuditRecord, 0, len(u.Selections))
	for i, sel := range u.Selections {
		r := base
		r.SKUID = sel.SKUID
		r.Operation = Change{Assign: sel.Selected}.Operation()
		switch own := byProperty[itemProperty(i)]; {
		case len(own) > 0:
			r.Reason = strings.Join(own, " ")
		case len(general) > 0:
			r.Reason = strings.Join(general, " ")
		case len(items) > 0:
			r.Reason = "Not applied: another item of the update was refused, and an update is applied whole or not at all."
		default:
			r.Reason = refusal.Message
		}
		out = append(out, r)
	}
	return out
}
