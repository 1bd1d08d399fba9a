"""``python -m provider_store`` runs the command-line interface."""

from provider_store.cli import main

if __name__ == "__main__":
    main()
