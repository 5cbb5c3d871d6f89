"""The clinician dashboard and the kiosk (Flask). Filled by the dashboard issue."""
