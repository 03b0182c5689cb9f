"""HTTP in: validate, call the domain, answer in the envelope of the BECMI VTT API."""
