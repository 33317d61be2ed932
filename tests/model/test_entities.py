from search.model.entities import decode_entities


def test_bio_words_to_char_spans_first_piece_labels_word():
    text = "Angela Merkel met Obamacare critics in Berlin"
    # pieces: [CLS] angela mer ##kel met obama ##care critics in berlin [SEP]
    word_ids = [None, 0, 1, 1, 2, 3, 3, 4, 5, 6, None]
    offsets = [(0, 0), (0, 6), (7, 10), (10, 13), (14, 17), (18, 23), (23, 27), (28, 35), (36, 38), (39, 45), (0, 0)]
    labels = ["O", "B-PER", "I-PER", "O", "O", "B-MISC", "B-LOC", "O", "O", "B-LOC", "O"]  # ##kel/##care ignored
    probs = [1.0] * len(labels)
    spans = decode_entities(text, labels, probs, word_ids, offsets)
    assert [(s.label, s.text) for s in spans] == [("PER", "Angela Merkel"), ("MISC", "Obamacare"), ("LOC", "Berlin")]
    assert all(text[s.start:s.end] == s.text for s in spans)


def test_stray_inside_tag_starts_new_entity():
    text = "Paris Hilton"
    spans = decode_entities(text, ["O", "I-LOC", "I-PER", "O"], [1.0] * 4, [None, 0, 1, None],
                            [(0, 0), (0, 5), (6, 12), (0, 0)])
    assert [(s.label, s.text) for s in spans] == [("LOC", "Paris"), ("PER", "Hilton")]


def test_weak_and_lowercase_spans_stay_out_and_punctuation_is_trimmed():
    text = "The Federal Security Service ( FSB ) said the"
    # words: The Federal Security Service ( FSB ) said the
    word_ids = [None, 0, 1, 2, 3, 4, 5, 6, 7, 8, None]
    offsets = [(0, 0), (0, 3), (4, 11), (12, 20), (21, 28), (29, 30), (31, 34), (35, 36), (37, 41), (42, 45), (0, 0)]
    labels = ["O", "B-PER", "B-ORG", "I-ORG", "I-ORG", "I-ORG", "B-ORG", "O", "O", "B-LOC", "O"]
    probs = [1.0, 0.2, 0.9, 0.9, 0.9, 0.9, 0.8, 1.0, 1.0, 0.9, 1.0]
    spans = decode_entities(text, labels, probs, word_ids, offsets, min_score=0.5)
    # "The" is too weak, "the" is not a name, "Service (" loses its bracket
    assert [(s.label, s.text) for s in spans] == [("ORG", "Federal Security Service"), ("ORG", "FSB")]
    assert all(text[s.start:s.end] == s.text for s in spans)


def test_abbreviation_split_at_its_dots_is_one_entity():
    text = "the U.S. said"
    # words: the U . S . said
    word_ids = [None, 0, 1, 2, 3, 4, 5, None]
    offsets = [(0, 0), (0, 3), (4, 5), (5, 6), (6, 7), (7, 8), (9, 13), (0, 0)]
    labels = ["O", "O", "B-LOC", "O", "B-LOC", "O", "O", "O"]
    spans = decode_entities(text, labels, [0.9] * len(labels), word_ids, offsets, min_score=0.5)
    assert [(s.label, s.text, s.start, s.end) for s in spans] == [("LOC", "U.S", 4, 7)]


def test_a_span_run_on_by_a_lower_case_word_is_cut_back_to_the_name():
    text = "the Investigative Committee and Bank of England staff met van Gogh"
    # words: the Investigative Committee and Bank of England staff met van Gogh
    word_ids = [None, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, None]
    offsets = [(0, 0), (0, 3), (4, 17), (18, 27), (28, 31), (32, 36), (37, 39), (40, 47), (48, 53), (54, 57),
               (58, 61), (62, 66), (0, 0)]
    labels = ["O", "B-ORG", "I-ORG", "I-ORG", "I-ORG", "B-ORG", "I-ORG", "I-ORG", "I-ORG", "O", "B-PER", "I-PER",
              "O"]
    spans = decode_entities(text, labels, [0.9] * len(labels), word_ids, offsets, min_score=0.5)
    # the inner "of" stays, a name's particle stays; the words that only run the spans on go
    assert [(s.text, s.start, s.end) for s in spans] == [("Investigative Committee", 4, 27),
                                                        ("Bank of England", 32, 47), ("van Gogh", 58, 66)]
    assert all(text[s.start:s.end] == s.text for s in spans)


def test_a_capitalised_function_word_alone_is_no_name_but_capitals_are_kept():
    text = "He said The WHO and US staff met"
    word_ids = [None, 0, 1, 2, 3, 4, 5, 6, 7, None]
    offsets = [(0, 0), (0, 2), (3, 7), (8, 11), (12, 15), (16, 19), (20, 22), (23, 28), (29, 32), (0, 0)]
    labels = ["O", "B-PER", "O", "B-ORG", "B-ORG", "O", "B-LOC", "O", "O", "O"]
    spans = decode_entities(text, labels, [0.9] * len(labels), word_ids, offsets, min_score=0.5)
    assert [s.text for s in spans] == ["WHO", "US"]


def test_a_hyphenated_name_split_at_its_hyphen_is_one_entity():
    text = "Agence France-Presse and Jean - Luc said"
    # words: Agence France - Presse and Jean - Luc said
    word_ids = [None, 0, 1, 2, 3, 4, 5, 6, 7, 8, None]
    offsets = [(0, 0), (0, 6), (7, 13), (13, 14), (14, 20), (21, 24), (25, 29), (30, 31), (32, 35), (36, 40), (0, 0)]
    labels = ["O", "B-ORG", "I-ORG", "O", "B-ORG", "O", "B-PER", "O", "B-PER", "O", "O"]
    spans = decode_entities(text, labels, [0.9] * len(labels), word_ids, offsets, min_score=0.5)
    # joined across a bare hyphen; a hyphen with spaces around it separates two names
    assert [(s.text, s.start, s.end) for s in spans] == [("Agence France-Presse", 0, 20), ("Jean", 25, 29),
                                                        ("Luc", 32, 35)]
