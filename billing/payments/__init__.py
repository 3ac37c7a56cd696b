"""Payments (issue 6, scope 6): OCR Giro import (S-02), manual registration, reconciliation."""
