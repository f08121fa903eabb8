"""Result tables (Table I-III shapes) rendered from evaluation aggregates."""
