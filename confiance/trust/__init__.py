"""Trust between a provider and its clients, per engagement, direction and dimension.

`confiance.trust.opinion` is the framework-free core (subjective-logic opinions,
fusion, discounting, decaying evidence); it imports nothing from Django.
"""
