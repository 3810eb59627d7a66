"""Keep each image's search vector in its table row instead of TOAST.

pgvector's types default to EXTERNAL storage, and PostgreSQL moves values out of a row longer than about 2 KB: a
512-d float32 vector is 2 KB by itself, so every re-rank (the `bit` index) and exact comparison read it back through
the TOAST index, two to three more page reads a row. MAIN storage keeps it in the row; a toast_tuple_target with
room for the vector keeps the short texts in the row too (search.vector_index.ensure_vectors_fit_in_rows raises it
for longer vectors). The caption vector, read only by caption searches through its own index, stays EXTERNAL and is
the first value to leave a row that grows past the target. Rows written before keep their layout until they are
rewritten (migration 0009 rewrites them all; README, "Upgrades").
"""

from django.db import migrations

ROW_TARGET_FOR_512_DIMENSIONS = 4 * 512 + 8 + 2048  # search.vector_index.row_target(512), frozen here


class Migration(migrations.Migration):
    dependencies = [("search", "0007_turn_more_like_image")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE search_image ALTER COLUMN embedding SET STORAGE MAIN, "
            f"SET (toast_tuple_target = {ROW_TARGET_FOR_512_DIMENSIONS})",
            reverse_sql="ALTER TABLE search_image ALTER COLUMN embedding SET STORAGE EXTERNAL, "
            "RESET (toast_tuple_target)",
        )
    ]
