"""Repository scripts. Run the Python ones from the checkout root: `python -m hack.NAME`."""
