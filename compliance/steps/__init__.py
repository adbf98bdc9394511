"""Optional steps of an assessment run; each ties one package into the runner."""
