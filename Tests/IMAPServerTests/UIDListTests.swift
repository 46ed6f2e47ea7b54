@testable import IMAPServer
import Testing

@Suite struct UIDListTests {
    /// Every operation against a plain array, over random appends and expunges.
    @Test func behavesLikeAnArray() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            var reference: [UInt32] = []
            var list = UIDList()
            var next: UInt32 = 1
            for _ in 0..<300 {
                if reference.isEmpty || Int.random(in: 0..<3, using: &generator) > 0 {
                    next += UInt32.random(in: 0...2, using: &generator)
                    reference.append(next)
                    list.append(next)
                    next += 1
                } else {
                    let position = Int.random(in: 0..<reference.count, using: &generator)
                    reference.remove(at: position)
                    list.remove(at: position)
                }
                #expect(Array(list) == reference)
            }
            for uid in 0...(next + 1) {
                #expect(list.firstIndex(of: uid) == reference.firstIndex(of: uid))
                #expect(list.lowerBound(uid) == (reference.firstIndex { $0 >= uid } ?? reference.count))
            }
        }
    }

    @Test func smallerAppendsAreIgnoredAndRunsStayFew() {
        var list = UIDList(1...5000)
        list.append(3)
        list.append(5000)
        #expect(list.count == 5000 && list.last == 5000)
        list.remove(at: 2499)
        #expect(list[2499] == 2501 && list.firstIndex(of: 2500) == nil)
        #expect(list == UIDList(Array(1...2499) + Array(2501...5000)))
        #expect(UIDList().lowerBound(7) == 0 && UIDList().firstIndex(of: 1) == nil)
    }
}
