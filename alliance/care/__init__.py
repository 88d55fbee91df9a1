"""Clients, episodes of care, appointments, responses, reflections and alerts, and the therapist's screens."""
