"""The remiss: organisations answer the draft strategy through personal links."""
