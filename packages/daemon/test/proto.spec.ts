import assert from 'node:assert/strict'
import * as js from '@libp2p/daemon-protocol'
import { DHTRequest, PSRequest, PeerstoreRequest, Request, Response, StreamInfo } from '../src/pb/control.js'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const fromHex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'))
/** A one-byte length or varint, as two hex digits. */
const h = (n: number): string => n.toString(16).padStart(2, '0')
const peer = Uint8Array.from(Buffer.from('002408011220' + '11'.repeat(32), 'hex'))
const addr = Uint8Array.from(Buffer.from('047f000001060fa1', 'hex')) // /ip4/127.0.0.1/tcp/4001

describe('control protocol messages', () => {
  it('encode as p2pd (proto2) does: enum value 0 and every required field are written', () => {
    assert.equal(hex(Request.encode({ type: Request.Type.IDENTIFY })), '0800')
    assert.equal(hex(Response.encode({ type: Response.Type.OK, peers: [] })), '0800')
    assert.equal(hex(Response.encode({ type: Response.Type.ERROR, error: { msg: 'x' }, peers: [] })), '08011203' + '0a0178')
    // Empty required fields are still present on the wire (proto2 `required` would reject their absence).
    assert.equal(hex(StreamInfo.encode({ peer: new Uint8Array(0), addr: new Uint8Array(0), proto: '' })), '0a0012001a00')
    assert.equal(hex(Request.encode({ type: Request.Type.DHT, dht: { type: DHTRequest.Type.FIND_PEER, peer } })), '0804' + '2a' + h(peer.byteLength + 4) + '0800' + '12' + h(peer.byteLength) + hex(peer))
  })

  it('decode hand-built p2pd frames', () => {
    const info = StreamInfo.decode(fromHex('0a' + h(peer.byteLength) + hex(peer) + '12' + h(addr.byteLength) + hex(addr) + '1a022f78'))
    assert.deepEqual(info.peer, peer)
    assert.deepEqual(info.addr, addr)
    assert.equal(info.proto, '/x')
    const connect = Request.decode(fromHex('0801' + '12' + h(peer.byteLength + 2 + addr.byteLength + 2 + 2) + '0a' + h(peer.byteLength) + hex(peer) + '12' + h(addr.byteLength) + hex(addr) + '1805'))
    assert.equal(connect.type, Request.Type.CONNECT)
    assert.deepEqual(connect.connect?.peer, peer)
    assert.deepEqual(connect.connect?.addrs, [addr])
    assert.equal(connect.connect?.timeout, 5n)
  })

  it('round-trip with js-libp2p\'s daemon-protocol codecs, both ways', () => {
    const requests: Request[] = [
      { type: Request.Type.IDENTIFY },
      { type: Request.Type.CONNECT, connect: { peer, addrs: [addr, addr], timeout: 30n } },
      { type: Request.Type.STREAM_OPEN, streamOpen: { peer, proto: ['/a/1', '/b/1'], timeout: 1n } },
      { type: Request.Type.STREAM_HANDLER, streamHandler: { addr, proto: ['/a/1'] } },
      { type: Request.Type.LIST_PEERS },
      { type: Request.Type.DISCONNECT, disconnect: { peer } },
      { type: Request.Type.DHT, dht: { type: DHTRequest.Type.PUT_VALUE, key: new Uint8Array([1]), value: new Uint8Array([2]), count: 3, timeout: 4n } },
      { type: Request.Type.PUBSUB, pubsub: { type: PSRequest.Type.PUBLISH, topic: 't', data: new Uint8Array([9]) } },
      { type: Request.Type.PEERSTORE, peerStore: { type: PeerstoreRequest.Type.GET_PROTOCOLS, id: peer, protos: [] } }
    ]
    for (const req of requests) {
      const ours = Request.encode(req)
      const theirs = js.Request.decode(ours)
      assert.equal(theirs.type, req.type)
      assert.deepEqual(Request.decode(js.Request.encode(theirs)), req)
    }
    const responses: Response[] = [
      { type: Response.Type.OK, identify: { id: peer, addrs: [addr] }, peers: [] },
      { type: Response.Type.OK, peers: [{ id: peer, addrs: [addr] }, { id: peer, addrs: [] }] },
      { type: Response.Type.OK, streamInfo: { peer, addr, proto: '/echo/1.0.0' }, peers: [] },
      { type: Response.Type.ERROR, error: { msg: 'nope' }, peers: [] }
    ]
    for (const res of responses) {
      const theirs = js.Response.decode(Response.encode(res))
      assert.equal(theirs.type, res.type)
      assert.deepEqual(Response.decode(js.Response.encode(theirs)), res)
    }
  })

  it('refuses unknown enum values and truncated messages', () => {
    assert.throws(() => Request.decode(Uint8Array.from([0x08, 0x2a])), /Invalid enum value/)
    assert.throws(() => Request.decode(Uint8Array.from([0x12, 0x05, 0x0a])))
  })
})
