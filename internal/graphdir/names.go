package graphdir

// productNames are the names Microsoft's licensing service plan reference
// gives common SKUs ("Product names and service plan identifiers for
// licensing"); any other SKU is named by its skuPartNumber.
var productNames = map[string]string{
	"SPE_E3":                           "Microsoft 365 E3",
	"SPE_E5":                           "Microsoft 365 E5",
	"SPE_F1":                           "Microsoft 365 F3",
	"ENTERPRISEPACK":                   "Office 365 E3",
	"ENTERPRISEPREMIUM":                "Office 365 E5",
	"STANDARDPACK":                     "Office 365 E1",
	"DESKLESSPACK":                     "Office 365 F3",
	"O365_BUSINESS_ESSENTIALS":         "Microsoft 365 Business Basic",
	"O365_BUSINESS_PREMIUM":            "Microsoft 365 Business Standard",
	"SPB":                              "Microsoft 365 Business Premium",
	"O365_BUSINESS":                    "Microsoft 365 Apps for business",
	"OFFICESUBSCRIPTION":               "Microsoft 365 Apps for enterprise",
	"EXCHANGESTANDARD":                 "Exchange Online (Plan 1)",
	"EXCHANGEENTERPRISE":               "Exchange Online (Plan 2)",
	"EXCHANGEDESKLESS":                 "Exchange Online Kiosk",
	"POWER_BI_PRO":                     "Power BI Pro",
	"POWER_BI_STANDARD":                "Microsoft Fabric (Free)",
	"PBI_PREMIUM_PER_USER":             "Power BI Premium Per User",
	"PROJECTPROFESSIONAL":              "Project Plan 3",
	"VISIOCLIENT":                      "Visio Plan 2",
	"EMS":                              "Enterprise Mobility + Security E3",
	"EMSPREMIUM":                       "Enterprise Mobility + Security E5",
	"AAD_PREMIUM":                      "Microsoft Entra ID P1",
	"AAD_PREMIUM_P2":                   "Microsoft Entra ID P2",
	"INTUNE_A":                         "Microsoft Intune Plan 1",
	"Microsoft_Teams_Exploratory_Dept": "Microsoft Teams Exploratory",
	"Microsoft_365_Copilot":            "Microsoft 365 Copilot",
	"MCOEV":                            "Microsoft Teams Phone Standard",
	"MCOMEETADV":                       "Microsoft 365 Audio Conferencing",
	"FLOW_FREE":                        "Microsoft Power Automate Free",
	"WIN10_VDA_E3":                     "Windows 10/11 Enterprise E3",
}

// productName is the SKU's friendly name where known.
func productName(partNumber string) string {
	if n, ok := productNames[partNumber]; ok {
		return n
	}
	return partNumber
}
