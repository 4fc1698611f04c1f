"""Survey authoring for staff: surveys made and edited in the browser, and XLSForm upload and download."""
