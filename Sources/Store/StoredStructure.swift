import Foundation
import Message

/// The `content.structure` column: a message's parsed MIME structure in Message's binary
/// form (`ParsedMessage.encoded()`), read on every FETCH of ENVELOPE or BODYSTRUCTURE and
/// every header SEARCH. Rows written before that form existed hold JSON and still read.
enum StoredStructure {
    static func encode(_ parsed: ParsedMessage) -> Data {
        Data(parsed.encoded())
    }

    /// The structure of message file `fileID`; a row that does not decode is corruption.
    static func decode(_ data: Data, fileID: Int64) throws(StoreError) -> ParsedMessage {
        do {
            if ParsedMessage.isEncodedForm(data) {
                return try data.withUnsafeBytes { buffer in
                    Result { () throws(StructureDecodingError) in try ParsedMessage(encoded: buffer) }
                }.get()
            }
            return try JSONDecoder().decode(ParsedMessage.self, from: data)
        } catch {
            throw StoreError.corrupt("structure of message file \(fileID): \(error)")
        }
    }

    /// Only the message's own header section, or only its fields named in `only` (see
    /// `HeaderSection(encodedStructure:only:)`).
    static func decodeHeader(_ data: Data, fileID: Int64, only names: HeaderNames?) throws(StoreError) -> HeaderSection {
        guard ParsedMessage.isEncodedForm(data) else {
            var header = try decode(data, fileID: fileID).header
            if let names { header.fields.removeAll { !names.contains($0) } }
            return header
        }
        do {
            return try data.withUnsafeBytes { buffer in
                Result { () throws(StructureDecodingError) in try HeaderSection(encodedStructure: buffer, only: names) }
            }.get()
        } catch {
            throw StoreError.corrupt("structure of message file \(fileID): \(error)")
        }
    }
}
