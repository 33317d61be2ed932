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
