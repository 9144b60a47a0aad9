"""python manage.py export_datasheet DIR

Writes every datasheet file (interfaces.md §1) with every column, plus the
computed columns, into DIR (created if missing).
"""

from django.core.management.base import BaseCommand

from reports.datasheet import export_datasheet


class Command(BaseCommand):
    help = "Export everything in the cohort datasheet format into a folder."

    def add_arguments(self, parser):
        parser.add_argument("directory", help="folder to write the CSV files into")

    def handle(self, *args, directory, **options):
        counts = export_datasheet(directory)
        for name, rows in counts.items():
            self.stdout.write(f"{name:<20} {rows} rows")
        self.stdout.write(self.style.SUCCESS(f"Datasheet exported to {directory}."))
